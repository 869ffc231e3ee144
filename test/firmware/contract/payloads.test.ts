import { describe, expect, it } from "vitest";
import { buildCommand, validateCommand, validateInfo, validateReading, validateReply, validateStatus } from "../../../firmware/contract";

const good = { v: 1, id: "sim-1", boot: 3, seq: 7, up: 70000, ts: 1795400000000, temperature: 21.4, humidity: 48.2 };

describe("reading validator", () => {
  it("accepts a good reading and a failed one", () => {
    expect(validateReading(good)).toEqual({ ok: true, value: good });
    const failed = { v: 1, id: "sim-1", boot: 3, seq: 8, up: 80000, ts: null, error: "checksum" };
    expect(validateReading(failed)).toEqual({ ok: true, value: failed });
  });

  it("drops unknown extra fields from the accepted value", () => {
    const r = validateReading({ ...good, extra: "<script>" });
    expect(r.ok && "extra" in r.value).toBe(false);
  });

  it.each([
    ["not an object", [1, 2], /not a JSON object/],
    ["null", null, /not a JSON object/],
    ["wrong version", { ...good, v: 2 }, /v must be 1/],
    ["bad id", { ...good, id: "a/b" }, /id is not a valid/],
    ["negative seq", { ...good, seq: -1 }, /seq/],
    ["fractional boot", { ...good, boot: 1.5 }, /boot/],
    ["string temperature", { ...good, temperature: "21" }, /temperature must be a finite number/],
    ["NaN-like null humidity", { ...good, humidity: null }, /humidity must be a finite number/],
    ["impossible humidity", { ...good, humidity: 101 }, /humidity out of range/],
    ["impossible temperature", { ...good, temperature: -41 }, /temperature out of range/],
    ["ts as string", { ...good, ts: "now" }, /ts must be null or Unix ms/],
    ["unknown error", { ...good, temperature: undefined, humidity: undefined, error: "fire" }, /error must be one of/],
    ["error with values", { ...good, error: "timeout" }, /must not carry values/],
  ])("rejects %s", (_name, payload, message) => {
    const r = validateReading(payload);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe("command validator", () => {
  it.each([
    [{ id: "a", op: "read" }, { id: "a", op: "read" }],
    [{ id: "a", op: "ping" }, { id: "a", op: "ping" }],
    [{ id: "b", op: "set", interval: 30, tempOffset: -0.5 }, { id: "b", op: "set", set: { interval: 30, tempOffset: -0.5 } }],
    // the signed envelope's fields are not settings
    [{ id: "b", op: "set", interval: 30, to: "sim-1", n: 5, exp: 9, sig: "00" }, { id: "b", op: "set", set: { interval: 30 } }],
    [{ id: "k", op: "rekey", nonce: "ab".repeat(16), key: "CD".repeat(32), n: 1 }, { id: "k", op: "rekey", nonce: "ab".repeat(16), key: "CD".repeat(32) }],
    [{ id: "l", op: "link", target: "sim-b" }, { id: "l", op: "link", target: "sim-b" }],
    [{ id: "l", op: "link", source: "sim-a", nonce: "ab".repeat(16), key: "CD".repeat(32) }, { id: "l", op: "link", source: "sim-a", nonce: "ab".repeat(16), key: "CD".repeat(32) }],
    [{ id: "u", op: "unlink", source: "sim-a" }, { id: "u", op: "unlink", source: "sim-a" }],
  ])("accepts %j", (cmd, value) => {
    expect(validateCommand(cmd)).toEqual({ ok: true, value });
  });

  it.each([
    ["text", "read", undefined, /not a JSON object/],
    ["no id", { op: "read" }, undefined, /id must be a string/],
    ["long id", { id: "x".repeat(65), op: "read" }, undefined, /id must be a string of 1..64/],
    ["unknown op", { id: "c", op: "reboot" }, "c", /unknown op 'reboot' \(expected read\|set\|get\|ping\|restart\|rekey\|link\|unlink\)/],
    ["link without a side", { id: "l", op: "link" }, "l", /^link needs target \(a device id\) or source \(a device id, with nonce \(32 hex\) and key \(64 hex\)\)$/],
    ["link to a bad id", { id: "l", op: "link", target: "a/b" }, "l", /link needs target/],
    ["link with both sides", { id: "l", op: "link", target: "sim-b", source: "sim-a" }, "l", /link needs target/],
    ["link source without its key", { id: "l", op: "link", source: "sim-a" }, "l", /link needs target/],
    ["link source with a short key", { id: "l", op: "link", source: "sim-a", nonce: "00".repeat(16), key: "00".repeat(31) }, "l", /link needs target/],
    ["unlink of 'all'", { id: "u", op: "unlink", source: "all" }, "u", /^unlink needs target \(a device id\) or source \(a device id\)$/],
    ["rekey without a nonce", { id: "r", op: "rekey", key: "00".repeat(32) }, "r", /rekey needs nonce \(32 hex\) and key \(64 hex\)/],
    ["rekey with a short key", { id: "r", op: "rekey", nonce: "00".repeat(16), key: "00".repeat(31) }, "r", /rekey needs/],
    ["rekey with a key that is not hex", { id: "r", op: "rekey", nonce: "00".repeat(16), key: "zz".repeat(32) }, "r", /rekey needs/],
    ["empty set", { id: "d", op: "set" }, "d", /set needs one of interval/],
    ["unknown setting", { id: "e", op: "set", colour: 1 }, "e", /unknown setting 'colour'/],
    ["interval too short", { id: "f", op: "set", interval: 1 }, "f", /interval must be 2..86400 seconds/],
    ["offset as string", { id: "g", op: "set", humOffset: "2" }, "g", /humOffset must be -20..20/],
    ["one bad among good", { id: "h", op: "set", interval: 10, heartbeat: -1 }, "h", /heartbeat/],
  ])("rejects %s, naming the id when it has one", (_n, cmd, id, message) => {
    const r = validateCommand(cmd);
    expect(r.ok).toBe(false);
    expect(r.id).toBe(id);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it("round-trips what the host builds", () => {
    const wire = JSON.parse(JSON.stringify(buildCommand("z9", "set", { interval: 60, heartbeat: 300 })));
    expect(validateCommand(wire)).toEqual({ ok: true, value: { id: "z9", op: "set", set: { interval: 60, heartbeat: 300 } } });
  });
});

describe("info, reply and status validators", () => {
  const info = { v: 1, id: "sim-1", fw: "0.1.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: "espdht/x", caps: ["read"], dropped: 0, configError: null };
  it("accepts info and rejects a bad model", () => {
    expect(validateInfo(info).ok).toBe(true);
    expect(validateInfo({ ...info, model: "bme280" })).toEqual({ ok: false, error: "model must be dht22 or dht11" });
  });
  it("info may carry the command safety counters, each a count", () => {
    expect(validateInfo({ ...info, retainedCmds: 2, skipped: 1, rateLimited: 0, refused: 7 }).ok).toBe(true);
    expect(validateInfo({ ...info, skipped: -1 })).toEqual({ ok: false, error: "skipped must be a non-negative integer" });
    expect(validateInfo({ ...info, refused: "3" })).toEqual({ ok: false, error: "refused must be a non-negative integer" });
  });
  it("replies need re and ok, and an error when not ok", () => {
    expect(validateReply({ re: "a", ok: true, up: 5 }).ok).toBe(true);
    expect(validateReply({ re: null, ok: false, error: "bad" }).ok).toBe(true);
    expect(validateReply({ re: "a", ok: false }).ok).toBe(false);
    expect(validateReply({ re: 5, ok: true }).ok).toBe(false);
  });
  it("status is online or offline only", () => {
    expect(validateStatus("online").ok).toBe(true);
    expect(validateStatus("ONLINE").ok).toBe(false);
  });
});
