// Polls a condition until it holds, for tests that wait on real brokers and processes.
export function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() > deadline ? reject(new Error(`timed out: ${what}`)) : setTimeout(tick, 20));
    tick();
  });
}
