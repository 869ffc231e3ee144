// Edge-timing fixtures: the HIGH time (us) before each falling edge, as the ESP32 setWatch recipe sees them.

/** 40 HIGH times for five bytes, MSB first: ~27 us is a 0, ~70 us is a 1. */
export function frameBits(bytes: number[]): number[] {
  const out: number[] = [];
  for (const b of bytes) for (let bit = 7; bit >= 0; bit--) out.push((b >> bit) & 1 ? 70 : 27);
  return out;
}

export function withChecksum(b0: number, b1: number, b2: number, b3: number): number[] {
  return [b0, b1, b2, b3, (b0 + b1 + b2 + b3) & 0xff];
}

/** 42 edges: the pull-up's rise before the sensor answers (~30 us), its 80 us HIGH response, then the bits. */
export function train42(bytes: number[]): number[] {
  return [30, 80, ...frameBits(bytes)];
}

/** 41 edges: the ESP32 dropped the first edge (setWatch forced the pull-up and ended the start pulse early). */
export function train41(bytes: number[]): number[] {
  return [80, ...frameBits(bytes)];
}

/**
 * setWatch events for a train of HIGH times, as Espruino reports them: seconds, each edge's `lastTime` is the
 * previous edge's `time`. Starts at `t0` seconds (the sensor's first falling edge ends a HIGH of train[0]).
 */
export function watchEvents(train: number[], t0: number): { time: number; lastTime: number }[] {
  let t = t0;
  return train.map((us) => {
    const lastTime = t;
    t += us / 1e6;
    return { time: t, lastTime };
  });
}
