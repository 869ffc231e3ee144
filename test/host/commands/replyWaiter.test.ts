import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newCommandId, ReplyWaiter } from "../../../host/commands/replyWaiter";
import { buildValidCommand, CommandError, parseSettingArgs } from "../../../host/commands/sendCommand";

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe("ReplyWaiter", () => {
  it("resolves a one-to-one command on its reply and ignores others", async () => {
    const w = new ReplyWaiter();
    const p = w.expect("c1", 5000);
    expect(w.offer("sim-a", { re: "other", ok: true })).toBe(false);
    expect(w.offer("sim-a", { re: null, ok: false, error: "bad" })).toBe(false);
    expect(w.offer("sim-a", { re: "c1", ok: true }, 7)).toBe(true);
    await expect(p).resolves.toEqual({ replies: [{ device: "sim-a", reply: { re: "c1", ok: true }, at: 7, trust: "unsigned" }], timedOut: false });
    expect(w.waiting).toBe(0);
    expect(w.offer("sim-a", { re: "c1", ok: true })).toBe(false); // a late duplicate
  });

  it("times out", async () => {
    const w = new ReplyWaiter();
    const p = w.expect("c2", 5000);
    vi.advanceTimersByTime(4999);
    expect(w.waiting).toBe(1);
    vi.advanceTimersByTime(1);
    await expect(p).resolves.toEqual({ replies: [], timedOut: true });
  });

  it("collects group replies until the timeout", async () => {
    const w = new ReplyWaiter();
    const p = w.expect("g1", 3000, true);
    w.offer("sim-a", { re: "g1", ok: true }, 1);
    w.offer("sim-b", { re: "g1", ok: false, error: "busy" }, 2);
    vi.advanceTimersByTime(3000);
    const r = await p;
    expect(r.replies.map((x) => x.device)).toEqual(["sim-a", "sim-b"]);
  });

  it("makes distinct ids", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newCommandId()));
    expect(ids.size).toBe(100);
  });
});

describe("command building", () => {
  it("parses key=value settings and validates against the contract", () => {
    expect(parseSettingArgs(["interval=30", "tempOffset=-0.5"])).toEqual({ interval: 30, tempOffset: -0.5 });
    expect(buildValidCommand({ target: "sim-a", op: "set", set: { interval: 30 } }, "x1")).toEqual({ id: "x1", op: "set", set: { interval: 30 } });
    expect(buildValidCommand({ target: "all", op: "ping" }, "x2")).toEqual({ id: "x2", op: "ping" });
    expect(() => buildValidCommand({ target: "sim-a", op: "set", set: { interval: "fast" } })).toThrow(CommandError);
    expect(() => buildValidCommand({ target: "a/b", op: "read" })).toThrow(/not a device id/);
    expect(() => parseSettingArgs(["=3"])).toThrow(/not key=value/);
  });

  // 'espdht send dev read interval=30' (meant: set) sent a plain read and the setting vanished unnoticed
  it("refuses settings with an op other than set, naming them", () => {
    expect(() => buildValidCommand({ target: "sim-a", op: "read", set: { interval: 30 } })).toThrow("'read' takes no settings (got interval); did you mean 'set'?");
    expect(buildValidCommand({ target: "sim-a", op: "ping", set: {} }, "x3")).toEqual({ id: "x3", op: "ping" });
  });
});
