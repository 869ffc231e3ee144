import { describe, expect, it } from "vitest";
import { MAX_PAYLOAD_BYTES, parseDeviceMessage } from "../../../host/ingest/parseMessage";

const ROOT = "espdht/test";
const enc = (s: string) => new TextEncoder().encode(s);
const good = { v: 1, id: "sim-a", boot: 1, seq: 1, up: 1000, ts: null, temperature: 21.5, humidity: 40 };
const goodInfo = { v: 1, id: "sim-a", fw: "0.1.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: ROOT, caps: ["read"], dropped: 0, configError: null };

describe("parseDeviceMessage", () => {
  it("accepts a valid reading, info, status and reply", () => {
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/reading`, enc(JSON.stringify(good)))).toMatchObject({ kind: "reading", deviceId: "sim-a" });
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/info`, enc(JSON.stringify(goodInfo)))).toMatchObject({ kind: "info" });
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/status`, enc("offline"))).toEqual({ kind: "status", deviceId: "sim-a", online: false });
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/reply`, enc('{"re":"x","ok":true}'))).toMatchObject({ kind: "reply" });
  });

  // [name, topic suffix (or full topic), payload, reason fragment]
  const bad: [string, string, Uint8Array, string][] = [
    ["invalid JSON", "sim-a/reading", enc("{not json"), "invalid JSON"],
    ["empty payload", "sim-a/reading", enc(""), "empty payload"],
    ["JSON array", "sim-a/reading", enc("[1,2]"), "not a JSON object"],
    ["string temperature", "sim-a/reading", enc(JSON.stringify({ ...good, temperature: "21" })), "temperature must be a finite number"],
    ["NaN literal", "sim-a/reading", enc('{"v":1,"id":"sim-a","boot":1,"seq":1,"up":1,"ts":null,"temperature":NaN,"humidity":1}'), "invalid JSON"],
    ["null humidity", "sim-a/reading", enc(JSON.stringify({ ...good, humidity: null })), "humidity must be a finite number"],
    ["negative seq", "sim-a/reading", enc(JSON.stringify({ ...good, seq: -1 })), "seq must be"],
    ["fractional boot", "sim-a/reading", enc(JSON.stringify({ ...good, boot: 1.5 })), "boot must be"],
    ["impossible temperature", "sim-a/reading", enc(JSON.stringify({ ...good, temperature: 500 })), "temperature out of range"],
    ["unknown error type", "sim-a/reading", enc(JSON.stringify({ v: 1, id: "sim-a", boot: 1, seq: 1, up: 1, ts: null, error: "fire" })), "error must be one of"],
    ["error with values", "sim-a/reading", enc(JSON.stringify({ ...good, error: "checksum" })), "must not carry values"],
    ["wrong version", "sim-a/reading", enc(JSON.stringify({ ...good, v: 2 })), "v must be 1"],
    ["id not matching topic", "sim-b/reading", enc(JSON.stringify(good)), "id does not match"],
    ["oversized payload", "sim-a/reading", enc(JSON.stringify({ ...good, pad: "x".repeat(MAX_PAYLOAD_BYTES) })), "exceeds 4096"],
    ["invalid UTF-8", "sim-a/reading", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "not valid UTF-8"],
    ["invalid UTF-8 in a Buffer (as MQTT.js delivers)", "sim-a/reply", Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x7d]), "not valid UTF-8"],
    ["bad status", "sim-a/status", enc("maybe"), "status must be"],
    ["info without fw", "sim-a/info", enc(JSON.stringify({ ...goodInfo, fw: 3 })), "fw must be a string"],
    ["reply without ok", "sim-a/reply", enc('{"re":"x"}'), "ok must be a boolean"],
    ["failed reply without error", "sim-a/reply", enc('{"re":"x","ok":false}'), "must carry an error"],
    ["unknown kind", "sim-a/temperature", enc("1"), "unknown topic"],
    ["foreign root", "other/root/sim-a/reading", enc(JSON.stringify(good)), "unknown topic"],
    ["invalid device id", "sim<b>/reading", enc(JSON.stringify(good)), "unknown topic"],
  ];
  it.each(bad)("rejects %s with a reason", (_name, suffix, payload, reason) => {
    const topic = suffix.startsWith("other/") ? suffix : `${ROOT}/${suffix}`;
    const r = parseDeviceMessage(ROOT, topic, payload);
    expect(r.kind).toBe("rejected");
    if (r.kind === "rejected") expect(r.reason).toContain(reason);
  });

  it("accepts a real U+FFFD character in a Buffer payload", () => {
    const r = parseDeviceMessage(ROOT, `${ROOT}/sim-a/reply`, Buffer.from('{"re":"x\uFFFD","ok":true}', "utf8"));
    expect(r).toMatchObject({ kind: "reply", reply: { re: "x\uFFFD" } });
  });

  it("parses the same topic under another root afresh (parsed topics are cached per root)", () => {
    const topic = `${ROOT}/sim-a/reading`;
    expect(parseDeviceMessage(ROOT, topic, enc(JSON.stringify(good))).kind).toBe("reading");
    expect(parseDeviceMessage("espdht/other", topic, enc(JSON.stringify(good)))).toMatchObject({ kind: "rejected", reason: "unknown topic" });
    expect(parseDeviceMessage(ROOT, topic, enc(JSON.stringify(good))).kind).toBe("reading");
  });

  it("ignores commands on the cmd topic", () => {
    expect(parseDeviceMessage(ROOT, `${ROOT}/all/cmd`, enc("{}"))).toEqual({ kind: "ignored", deviceId: "all" });
  });
});

describe("parseDeviceMessage and signatures", () => {
  const tail = ',"sig":"0123456789abcdef0123456789abcdef"}';
  it("without a verifier, a signature tail is cut off before parsing: signed payloads parse like plain ones", () => {
    const signed = enc(JSON.stringify(good).slice(0, -1) + tail);
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/reading`, signed)).toEqual({ kind: "reading", deviceId: "sim-a", reading: good, trust: "unsigned", fingerprint: null });
    const reply = parseDeviceMessage(ROOT, `${ROOT}/sim-a/reply`, enc('{"re":"x","ok":false,"error":"busy"' + tail));
    expect(reply).toMatchObject({ kind: "reply", reply: { re: "x", ok: false, error: "busy" } });
    expect((reply as { reply: object }).reply).not.toHaveProperty("sig");
    const failed = { v: 1, id: "sim-a", boot: 1, seq: 2, up: 1, ts: null, error: "timeout" };
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/reading`, enc(JSON.stringify(failed)))).toMatchObject({ kind: "reading", reading: failed });
  });

  it("asks the verifier before parsing, and turns its refusal into a rejection naming the kind", () => {
    const asked: string[] = [];
    const refuse = { verify: (id: string, topic: string) => { asked.push(`${id} ${topic}`); return { ok: false as const, reason: "bad-signature" as const }; } };
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/info`, enc("{not even json"), refuse)).toMatchObject({ kind: "rejected", reason: "info: bad-signature" });
    expect(parseDeviceMessage(ROOT, `${ROOT}/sim-a/status`, enc("online"), refuse)).toMatchObject({ kind: "status" }); // status is never signed
    expect(asked).toEqual([`sim-a ${ROOT}/sim-a/info`]);
  });
});
