import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Keyring, keyFingerprint, KeyringError, newKeyHex, parseKeyHex, readKeyringFile, updateKeyringFile } from "../../provisioning/keyring";

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "espdht-keys-")), "keys.json");

describe("keyring file", () => {
  it("a missing file is an empty keyring; an update creates it 0600", () => {
    const file = tempFile();
    expect(readKeyringFile(file)).toEqual({ version: 1, devices: {}, pending: [] });
    const key = newKeyHex();
    updateKeyringFile(file, (d) => { d.devices["sim-aa"] = { key, added: "2026-01-01T00:00:00.000Z" }; });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readKeyringFile(file).devices["sim-aa"].key).toBe(key);
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["wrong shape", "[]", /expected \{"version": 1/],
    ["bad id", JSON.stringify({ version: 1, devices: { "a/b": { key: "00".repeat(32) } } }), /devices\.a\/b: not a valid device id/],
    ["short key", JSON.stringify({ version: 1, devices: { d1: { key: "abcd" } } }), /devices\.d1\.key: a key is 64 hex digits \(got 4 characters\)/],
    ["not hex", JSON.stringify({ version: 1, devices: {}, pending: [{ key: "zz".repeat(32) }] }), /pending\[0\]\.key: .*not all hex/],
  ])("refuses a file that is %s, naming it", (_what, text, message) => {
    const file = tempFile();
    fs.writeFileSync(file, text);
    expect(() => readKeyringFile(file)).toThrow(KeyringError);
    expect(() => readKeyringFile(file)).toThrow(message);
    expect(() => readKeyringFile(file)).toThrow(file);
  });

  it("parseKeyHex accepts 64 hex digits with whitespace, any case", () => {
    const key = newKeyHex();
    expect(parseKeyHex(`  ${key.toUpperCase()}\n`, "stdin")).toBe(key);
    expect(() => parseKeyHex("xyz", "stdin")).toThrow(/stdin: a key is 64 hex digits/);
  });

  it("fingerprints are 4 groups of 4 hex digits and differ per key", () => {
    const a = keyFingerprint(newKeyHex());
    expect(a).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
    expect(keyFingerprint(newKeyHex())).not.toBe(a);
  });
});

describe("Keyring", () => {
  it("sees keys another process adds, and binds a pending key to a device", () => {
    const file = tempFile();
    const ring = new Keyring(file);
    expect(ring.keyOf("sim-1")).toBeNull();
    const key = newKeyHex();
    const pending = newKeyHex();
    updateKeyringFile(file, (d) => { d.devices["sim-1"] = { key, added: "" }; d.pending.push({ key: pending, added: "" }); });
    expect(ring.refresh()).toBe(true);
    expect(ring.keyOf("sim-1")!.toString("hex")).toBe(key);
    expect(ring.pendingKeys().map((k) => k.toString("hex"))).toEqual([pending]);
    ring.bind("esp32-aabbccddeeff", pending);
    expect(ring.keyOf("esp32-aabbccddeeff")!.toString("hex")).toBe(pending);
    expect(ring.pendingKeys()).toEqual([]);
    expect(readKeyringFile(file).devices["esp32-aabbccddeeff"].key).toBe(pending);
    expect(ring.deviceIds()).toEqual(["esp32-aabbccddeeff", "sim-1"]);
  });

  it("a broken file keeps the last good keys when the caller asks to be told", () => {
    const file = tempFile();
    const key = newKeyHex();
    updateKeyringFile(file, (d) => { d.devices.d1 = { key, added: "" }; });
    const ring = new Keyring(file);
    fs.writeFileSync(file, "{ broken");
    const errors: string[] = [];
    expect(ring.refresh((e) => errors.push(e.message))).toBe(false);
    expect(errors[0]).toMatch(/not valid JSON/);
    expect(ring.keyOf("d1")!.toString("hex")).toBe(key);
  });
});
