// Virtual boards' keys against real Mosquitto: each board signs with its own key, kept across runs (also
// --fresh ones) beside its Storage file and written to the keyring; clones share the first board's key; a key
// rotated on a board is adopted at the next start; keys never reach a log line.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_FILE, KEY_FILE } from "../../../firmware/contract";
import { keyFingerprint, newKeyHex, readKeyringFile } from "../../../provisioning/keyring";
import { VirtualFlash } from "../../../sim/board/storage";
import { boardKeyFile } from "../../../sim/fleet/boardKeys";
import { Fleet, FleetOptions, fleetDeviceConfig, startFleet } from "../../../sim/fleet/fleet";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { RunningBroker, startMosquitto } from "../../support/brokers";
import { signatureVerdict } from "./signedPayload";
import { record, Recorder } from "./subscriber";

const root = "espdht/keystest";

describe("virtual boards' keys (real Mosquitto)", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  const dirs: string[] = [];
  const tempDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-simkeys-"));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await record(broker.url, root + "/#");
  });
  afterAll(async () => {
    await sub?.close();
    await broker?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const base = (dataDir: string | null, seed: string): FleetOptions => ({
    broker: broker.url, root, devices: 2, interval: 2, model: "dht22", pin: 4, seed, dataDir, firmwareFile: FIRMWARE_OUT, staggerMs: 50, rebootMs: 200,
  });
  const storedKey = (fleet: Fleet, i: number) => JSON.parse(fleet.boards[i].spec.flash.get(CONFIG_FILE)!.toString("latin1")).key as string | null | undefined;
  const readingsOf = (id: string, after = 0) => sub.messages.filter((m) => m.topic === `${root}/${id}/reading` && m.at >= after);
  /** waits for `n` readings of `id` published after `after`, and returns their verdicts under `key` */
  const verdicts = async (id: string, key: string, after: number, n = 2) => {
    await sub.until(() => readingsOf(id, after).length >= n, 20_000, `${n} readings of ${id}`);
    return [...new Set(readingsOf(id, after).map((m) => signatureVerdict(m.topic, m.text, key)))];
  };

  it("each board signs with its own key, kept across runs and --fresh; the keyring gets every key, no log line does", async () => {
    const dataDir = tempDir();
    const keyring = path.join(tempDir(), "keys.json");
    const logs: string[] = [];
    const opts = { ...base(dataDir, "keys-kept"), keys: true, keyring, log: (l: string) => logs.push(l) };
    let since = Date.now();
    let fleet = await startFleet(opts);
    const ids = fleet.ids;
    try {
      const ring = readKeyringFile(keyring);
      const keys = ids.map((id) => ring.devices[id].key);
      expect(keys[0]).not.toBe(keys[1]);
      expect(fs.statSync(keyring).mode & 0o777).toBe(0o600);
      for (let i = 0; i < 2; i++) {
        expect(storedKey(fleet, i)).toBe(keys[i]);
        expect(fs.readFileSync(boardKeyFile(dataDir, ids[i]), "utf8").trim()).toBe(keys[i]);
        expect(fs.statSync(boardKeyFile(dataDir, ids[i])).mode & 0o777).toBe(0o600);
        // Storage holds the key and the passwords: its owner's only
        expect(fs.statSync(path.join(dataDir, "sim", `${ids[i]}.storage.json`)).mode & 0o777).toBe(0o600);
        expect(fleet.fingerprints[i]).toBe(keyFingerprint(keys[i]));
        expect(await verdicts(ids[i], keys[i], since)).toEqual(["verified"]);
      }
      const info = sub.messages.filter((m) => m.topic === `${root}/${ids[0]}/info` && m.at >= since);
      expect(info.length).toBeGreaterThan(0);
      expect(signatureVerdict(info[0].topic, info[0].text, keys[0])).toBe("verified");
      await fleet.stop();

      for (const freshStorage of [false, true]) {
        since = Date.now();
        fleet = await startFleet({ ...opts, freshStorage });
        expect(fleet.ids).toEqual(ids);
        expect(ids.map((id) => readKeyringFile(keyring).devices[id].key)).toEqual(keys);
        for (let i = 0; i < 2; i++) {
          expect(storedKey(fleet, i)).toBe(keys[i]);
          expect(await verdicts(ids[i], keys[i], since)).toEqual(["verified"]);
        }
        await fleet.stop();
      }
      const text = logs.join("\n");
      for (const k of keys) expect(text).not.toContain(k);
    } finally {
      await fleet.stop();
    }
  }, 120_000);

  it("--duplicate-id clones sign with the first board's key; a later run without it gives them their own back", async () => {
    const dataDir = tempDir();
    const keyring = path.join(tempDir(), "keys.json");
    const opts = { ...base(dataDir, "keys-clones"), keys: true, keyring, log: () => {} };
    let since = Date.now();
    let fleet = await startFleet({ ...opts, faults: [{ at: 0, fault: "duplicate-id" }] });
    const ids = fleet.ids;
    try {
      const ring = readKeyringFile(keyring);
      const own = ids.map((id) => ring.devices[id].key);
      expect(storedKey(fleet, 1)).toBe(own[0]);
      expect(fleet.boards[1].spec.serial).toBe(ids[0]);
      // both boards publish under ids[0]: every reading there verifies under board 0's key
      await sub.until(() => readingsOf(ids[0], since).length >= 4, 20_000, "readings of both clones");
      expect(readingsOf(ids[1], since)).toEqual([]);
      expect(new Set(readingsOf(ids[0], since).map((m) => signatureVerdict(m.topic, m.text, own[0])))).toEqual(new Set(["verified"]));
      await fleet.stop();

      since = Date.now();
      fleet = await startFleet(opts);
      expect(storedKey(fleet, 1)).toBe(own[1]);
      expect(await verdicts(ids[1], own[1], since)).toEqual(["verified"]);
    } finally {
      await fleet.stop();
    }
  }, 90_000);

  it("a key rotated on a board is its key at the next start: Storage, key file and keyring agree", async () => {
    const dataDir = tempDir();
    const keyring = path.join(tempDir(), "keys.json");
    const opts = { ...base(dataDir, "keys-rotated"), devices: 1, keys: true, keyring, log: () => {} };
    let fleet = await startFleet(opts);
    const id = fleet.ids[0];
    const old = readKeyringFile(keyring).devices[id].key;
    await fleet.stop();
    // what the firmware leaves after a rekey: the new key, and the config key it replaced
    const rotated = newKeyHex();
    const storageFile = path.join(dataDir, "sim", `${id}.storage.json`);
    new VirtualFlash(storageFile).writeFile(KEY_FILE, Buffer.from(JSON.stringify({ from: old, key: rotated })), 0, 0);

    const since = Date.now();
    fleet = await startFleet(opts);
    try {
      expect(readKeyringFile(keyring).devices[id].key).toBe(rotated);
      expect(fs.readFileSync(boardKeyFile(dataDir, id), "utf8").trim()).toBe(rotated);
      expect(storedKey(fleet, 0)).toBe(rotated);
      expect(fleet.boards[0].spec.flash.get(KEY_FILE)).toBeUndefined();
      expect(await verdicts(id, rotated, since)).toEqual(["verified"]);
    } finally {
      await fleet.stop();
    }
  }, 60_000);

  it("a config given as is keeps its key (recorded in the keyring); without keys the boards are unsigned and the keyring untouched", async () => {
    const keyring = path.join(tempDir(), "keys.json");
    const given = newKeyHex();
    let since = Date.now();
    let fleet = await startFleet({ ...base(null, "keys-given"), keys: true, keyring, deviceConfig: { ...fleetDeviceConfig(base(null, "keys-given")), key: given }, log: () => {} });
    try {
      expect(fleet.ids.map((id) => readKeyringFile(keyring).devices[id].key)).toEqual([given, given]);
      expect(fleet.fingerprints).toEqual([keyFingerprint(given), keyFingerprint(given)]);
      expect(await verdicts(fleet.ids[0], given, since)).toEqual(["verified"]);
      await fleet.stop();

      const none = path.join(tempDir(), "keys.json");
      since = Date.now();
      const noneData = tempDir();
      fleet = await startFleet({ ...base(noneData, "keys-none"), keyring: none, log: () => {} });
      expect(fs.existsSync(none)).toBe(false);
      expect(storedKey(fleet, 0)).toBeUndefined();
      expect(fleet.fingerprints).toEqual([null, null]);
      expect(fs.readdirSync(path.join(noneData, "sim")).filter((f) => f.endsWith(".key"))).toEqual([]);
      expect(await verdicts(fleet.ids[0], given, since)).toEqual(["unsigned"]);
    } finally {
      await fleet.stop();
    }
  }, 60_000);
});
