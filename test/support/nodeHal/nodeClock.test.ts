// The real Clock adapter: monotonic ms, timers that fire and can be cancelled (short real waits: this is the clock itself).
import { describe, expect, it } from "vitest";
import { NodeClock } from "./nodeClock";

describe("NodeClock", () => {
  it("counts ms from its creation and never goes back", () => {
    const c = new NodeClock();
    const a = c.now();
    const b = c.now();
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1000);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it("fires a timer after its delay and not a cleared one", async () => {
    const c = new NodeClock();
    const fired: string[] = [];
    const start = c.now();
    let at = 0;
    c.setTimeout(() => {
      fired.push("kept");
      at = c.now();
    }, 20);
    const h = c.setTimeout(() => fired.push("cleared"), 10);
    c.clearTimeout(h);
    c.setTimeout(() => fired.push("negative delay runs as 0"), -5);
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toEqual(["negative delay runs as 0", "kept"]);
    expect(at - start).toBeGreaterThanOrEqual(19);
  });
});
