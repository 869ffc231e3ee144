// The ingest's trust marks (docs/trust.md "Readings on the host"), message by message with a fake clock and a
// keyring file in a temp folder: what is verified becomes data; forged, unsigned and replayed messages from a
// device with a key, and readings from the future, are rejected with their reason and move nothing.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { IngestEvent, IngestPipeline } from "../../../host/ingest/ingest";
import { DeviceTrust } from "../../../host/trust/deviceTrust";
import { Keyring, keyFingerprint, newKeyHex, readKeyringFile, updateKeyringFile } from "../../../provisioning/keyring";
import { deviceSigned, withWrongSignature } from "./deviceSigner";

const ROOT = "espdht/trust";
const T0 = 1_750_000_000_000;
const enc = (s: string) => Buffer.from(s, "utf8");

let file: string;
let now: number;
let ingest: IngestPipeline;
let events: IngestEvent[];
let trust: DeviceTrust;
const KEY_A = newKeyHex();

function reading(id: string, seq: number, boot = 1, extra: object = {}) {
  return { v: 1, id, boot, seq, up: seq * 2000, ts: now - 1000, temperature: 21 + seq / 10, humidity: 45, ...extra };
}
function info(id: string, boot = 1) {
  return { v: 1, id, fw: "0.2.0", model: "dht22", pin: 4, interval: 2, ip: null, boot, root: ROOT, caps: ["read"], dropped: 0, configError: null };
}
function signed(key: string, id: string, kind: string, fields: object): Buffer {
  return enc(deviceSigned(key, `${ROOT}/${id}/${kind}`, fields));
}
function handle(id: string, kind: string, payload: Buffer | string, retained = false) {
  now += 10;
  return ingest.handle(`${ROOT}/${id}/${kind}`, typeof payload === "string" ? enc(payload) : payload, retained);
}
function start(): void {
  trust = new DeviceTrust(new Keyring(file), { now: () => now });
  ingest = new IngestPipeline({ root: ROOT, trust, now: () => now });
  events = [];
  ingest.on((e) => events.push(e));
}

beforeEach(() => {
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "espdht-trust-")), "keys.json");
  updateKeyringFile(file, (d) => { d.devices["sim-a"] = { key: KEY_A, added: "2026-01-01T00:00:00.000Z" }; });
  now = T0;
  start();
});

describe("readings of a device with a key", () => {
  it("verified readings become data and mark the device verified with its key's fingerprint", () => {
    for (let seq = 1; seq <= 3; seq++) expect(handle("sim-a", "reading", signed(KEY_A, "sim-a", "reading", reading("sim-a", seq))).kind).toBe("reading");
    const d = ingest.fleet.get("sim-a")!;
    expect(d).toMatchObject({ readings: 3, seq: 3, trust: "verified", keyFingerprint: keyFingerprint(KEY_A), rejected: { total: 0 } });
    expect(d.lastReading).not.toHaveProperty("sig");
    expect(events.filter((e) => e.kind === "reading").map((e) => (e as { trust: string }).trust)).toEqual(["verified", "verified", "verified"]);
  });

  // [name, payload maker, reason]: each is rejected, and the device's state stays as the real readings left it
  const forged: [string, () => Buffer | string, string][] = [
    ["a wrong signature", () => withWrongSignature(deviceSigned(KEY_A, `${ROOT}/sim-a/reading`, reading("sim-a", 3, 1, { temperature: 79.9 }))), "reading: bad-signature"],
    ["another key's signature", () => signed(newKeyHex(), "sim-a", "reading", reading("sim-a", 3)), "reading: bad-signature"],
    ["a signature made for another device's topic", () => enc(deviceSigned(KEY_A, `${ROOT}/sim-b/reading`, reading("sim-a", 3))), "reading: bad-signature"],
    ["no signature", () => JSON.stringify(reading("sim-a", 3, 1, { temperature: 79.9 })), "reading: unsigned"],
    ["an unsigned boot jump", () => JSON.stringify(reading("sim-a", 1, Number.MAX_SAFE_INTEGER)), "reading: unsigned"],
    ["a signed boot jump with a wrong signature", () => withWrongSignature(deviceSigned(KEY_A, `${ROOT}/sim-a/reading`, reading("sim-a", 1, 2 ** 40))), "reading: bad-signature"],
    ["a replay of an accepted reading", () => signed(KEY_A, "sim-a", "reading", reading("sim-a", 2)), "reading: replayed"],
    ["a signed reading from the future", () => signed(KEY_A, "sim-a", "reading", reading("sim-a", 3, 1, { ts: now + 6 * 60_000 })), "reading: ts in the future"],
  ];
  it.each(forged)("%s is rejected with its reason and moves nothing", (_name, make, reason) => {
    handle("sim-a", "reading", signed(KEY_A, "sim-a", "reading", reading("sim-a", 1)));
    const second = signed(KEY_A, "sim-a", "reading", reading("sim-a", 2));
    handle("sim-a", "reading", second);
    const before = JSON.stringify({ ...ingest.fleet.get("sim-a")!, rejected: null, lastSeen: null });
    const out = handle("sim-a", "reading", make());
    expect(out).toMatchObject({ kind: "rejected", reason });
    const d = ingest.fleet.get("sim-a")!;
    expect(JSON.stringify({ ...d, rejected: null, lastSeen: null })).toBe(before);
    expect(d.rejected).toMatchObject({ total: 1, byReason: { [reason]: 1 }, recent: [{ reason, topic: `${ROOT}/sim-a/reading` }] });
    expect(ingest.rejected).toBe(1);
    expect(events.some((e) => e.kind === "rejected" && e.reason === reason)).toBe(true);
    // the real readings keep flowing
    expect(handle("sim-a", "reading", signed(KEY_A, "sim-a", "reading", reading("sim-a", 3)))).toMatchObject({ kind: "reading", verdict: { duplicate: false } });
    expect(ingest.fleet.get("sim-a")).toMatchObject({ seq: 3, readings: 3, boot: 1 });
  });

  it("late and out-of-order readings (buffered offline) stay valid; a replay of an earlier boot's reading does not", () => {
    const r = (seq: number, boot = 1) => signed(KEY_A, "sim-a", "reading", reading("sim-a", seq, boot));
    for (const seq of [1, 5, 3, 2]) expect(handle("sim-a", "reading", r(seq)).kind).toBe("reading");
    expect(ingest.fleet.get("sim-a")).toMatchObject({ seq: 5, late: 2, gaps: 1 });
    expect(handle("sim-a", "reading", r(0, 2))).toMatchObject({ kind: "reading", verdict: { restart: true } });
    expect(handle("sim-a", "reading", r(4, 1))).toMatchObject({ kind: "reading" }); // boot 1's last one, late
    expect(handle("sim-a", "reading", r(3, 1))).toMatchObject({ kind: "rejected", reason: "reading: replayed" });
    expect(handle("sim-a", "reading", r(0, 2))).toMatchObject({ kind: "rejected", reason: "reading: replayed" });
    expect(ingest.fleet.get("sim-a")).toMatchObject({ boot: 2, seq: 0, restarts: 1, readings: 6, rejected: { total: 2 } });
  });

  it("a forged info is rejected and the device's info stays; a verified one is taken", () => {
    handle("sim-a", "info", signed(KEY_A, "sim-a", "info", info("sim-a", 4)), true);
    expect(ingest.fleet.get("sim-a")).toMatchObject({ boot: 4, trust: "verified", info: { fw: "0.2.0" } });
    const fake = { ...info("sim-a", 99), fw: "evil" };
    expect(handle("sim-a", "info", JSON.stringify(fake), true)).toMatchObject({ kind: "rejected", reason: "info: unsigned" });
    expect(handle("sim-a", "info", withWrongSignature(deviceSigned(KEY_A, `${ROOT}/sim-a/info`, fake)), true)).toMatchObject({ kind: "rejected", reason: "info: bad-signature" });
    expect(ingest.fleet.get("sim-a")).toMatchObject({ boot: 4, restarts: 0, info: { fw: "0.2.0" } });
    expect(ingest.fleet.get("sim-a")!.info).not.toHaveProperty("sig");
  });

  it("replies must verify too: a forged one never reaches the waiter", () => {
    expect(handle("sim-a", "reply", JSON.stringify({ re: "h1", ok: true }))).toMatchObject({ kind: "rejected", reason: "reply: unsigned" });
    expect(handle("sim-a", "reply", signed(KEY_A, "sim-a", "reply", { re: "h1", ok: true }))).toMatchObject({ kind: "reply", reply: { re: "h1", ok: true } });
    expect(events.filter((e) => e.kind === "reply")).toEqual([{ kind: "reply", deviceId: "sim-a", reply: { re: "h1", ok: true }, trust: "verified" }]);
  });

  it("status stays plain text and is taken from anyone", () => {
    expect(handle("sim-a", "status", "online", true)).toMatchObject({ kind: "status" });
    expect(ingest.fleet.get("sim-a")!.online).toBe(true);
  });
});

describe("devices without a key", () => {
  it("work as before, marked unsigned; a signature from an unknown key is cut off, not believed", () => {
    expect(handle("sim-x", "reading", JSON.stringify(reading("sim-x", 1)))).toMatchObject({ kind: "reading", trust: "unsigned" });
    expect(handle("sim-x", "reading", signed(newKeyHex(), "sim-x", "reading", reading("sim-x", 2)))).toMatchObject({ kind: "reading", trust: "unsigned" });
    expect(handle("sim-x", "reading", JSON.stringify(reading("sim-x", 2)))).toMatchObject({ kind: "reading", verdict: { duplicate: true } });
    expect(ingest.fleet.get("sim-x")).toMatchObject({ trust: "unsigned", keyFingerprint: null, readings: 2, duplicates: 1, rejected: { total: 0 } });
  });

  it("a reading from more than 5 minutes ahead is rejected for them too; 4 minutes is fine", () => {
    expect(handle("sim-x", "reading", JSON.stringify(reading("sim-x", 1, 1, { ts: now + 4 * 60_000 })))).toMatchObject({ kind: "reading" });
    expect(handle("sim-x", "reading", JSON.stringify(reading("sim-x", 2, 1, { ts: Date.UTC(2100, 0, 1) })))).toMatchObject({ kind: "rejected", reason: "reading: ts in the future" });
    expect(ingest.fleet.get("sim-x")).toMatchObject({ seq: 1, readings: 1 });
  });

  it("a device whose key arrives later (sim, keys add) must sign from the next look at the keyring, a second on", () => {
    expect(handle("sim-y", "reading", JSON.stringify(reading("sim-y", 1)))).toMatchObject({ kind: "reading" });
    const key = newKeyHex();
    updateKeyringFile(file, (d) => { d.devices["sim-y"] = { key, added: "" }; });
    now += 1000;
    expect(handle("sim-y", "reading", JSON.stringify(reading("sim-y", 2)))).toMatchObject({ kind: "rejected", reason: "reading: unsigned" });
    expect(handle("sim-y", "reading", signed(key, "sim-y", "reading", reading("sim-y", 2)))).toMatchObject({ kind: "reading", trust: "verified" });
  });
});

describe("pending keys (made by flash)", () => {
  it("the first info that verifies under a pending key binds that key to the device's id", () => {
    const pending = newKeyHex();
    updateKeyringFile(file, (d) => { d.pending.push({ key: pending, added: "" }); });
    now += 1000; // the running program looks at the file again
    const id = "esp32-a1b2c3d4e5f6";
    expect(handle(id, "info", signed(pending, id, "info", info(id)), true)).toMatchObject({ kind: "info" });
    expect(ingest.fleet.get(id)).toMatchObject({ trust: "verified", keyFingerprint: keyFingerprint(pending) });
    const ring = readKeyringFile(file);
    expect(ring.devices[id].key).toBe(pending);
    expect(ring.pending).toEqual([]);
    // from now on the device must sign
    expect(handle(id, "reading", JSON.stringify(reading(id, 1)))).toMatchObject({ kind: "rejected", reason: "reading: unsigned" });
    expect(handle(id, "reading", signed(pending, id, "reading", reading(id, 1)))).toMatchObject({ kind: "reading", trust: "verified" });
  });

  it("a re-flashed board (new pending key) replaces its old key at its first message signed with the new one", () => {
    const fresh = newKeyHex();
    updateKeyringFile(file, (d) => { d.pending.push({ key: fresh, added: "" }); });
    start();
    expect(handle("sim-a", "reading", signed(fresh, "sim-a", "reading", reading("sim-a", 1, 2)))).toMatchObject({ kind: "reading", trust: "verified" });
    expect(readKeyringFile(file).devices["sim-a"].key).toBe(fresh);
    expect(handle("sim-a", "reading", signed(KEY_A, "sim-a", "reading", reading("sim-a", 2, 2)))).toMatchObject({ kind: "rejected", reason: "reading: bad-signature" });
  });

  it("a message signed with no key of the keyring binds nothing", () => {
    updateKeyringFile(file, (d) => { d.pending.push({ key: newKeyHex(), added: "" }); });
    start();
    const id = "esp32-000000000001";
    expect(handle(id, "info", signed(newKeyHex(), id, "info", info(id)), true)).toMatchObject({ kind: "info" });
    expect(ingest.fleet.get(id)!.trust).toBe("unsigned");
    expect(readKeyringFile(file).devices[id]).toBeUndefined();
    expect(readKeyringFile(file).pending).toHaveLength(1);
  });
});

describe("the keyring file", () => {
  it("a file broken while running is reported and the keys read before stay in use", () => {
    const errors: string[] = [];
    trust = new DeviceTrust(new Keyring(file), { now: () => now, onError: (m) => errors.push(m) });
    ingest = new IngestPipeline({ root: ROOT, trust, now: () => now });
    fs.writeFileSync(file, "{ broken");
    now += 1000;
    expect(handle("sim-a", "reading", JSON.stringify(reading("sim-a", 1)))).toMatchObject({ kind: "rejected", reason: "reading: unsigned" });
    expect(errors[0]).toContain(`${file}: not valid JSON`);
    now += 5000;
    handle("sim-a", "reading", JSON.stringify(reading("sim-a", 2)));
    expect(errors).toHaveLength(1); // said once while it stays broken
    expect(handle("sim-a", "reading", signed(KEY_A, "sim-a", "reading", reading("sim-a", 1)))).toMatchObject({ kind: "reading", trust: "verified" });
  });
});
