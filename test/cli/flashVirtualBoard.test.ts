// The flash path end to end: `espdht flash` drives the real espruino CLI over tcp:// into a virtual board's
// serial console; the board reboots into the upload and its readings, signed with the key the flash made and
// left pending in the keyring, reach a host subscriber.
import fs from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { CONFIG_FILE, validateInfo, validateReading } from "../../firmware/contract";
import { keyFingerprint, readKeyringFile } from "../../provisioning/keyring";
import { startSerialConsole } from "../../sim/console/serialConsole";
import { startFleet } from "../../sim/fleet/fleet";
import { FIRMWARE_OUT } from "../../tools/buildFirmware";
import { startAedes } from "../support/brokers";
import { runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";
import { signatureVerdict } from "../sim/fleet/signedPayload";

describe("espdht flash to a virtual board through the real espruino CLI", () => {
  it("uploads firmware and config; the board reboots into them and publishes under the new topic root", async () => {
    const broker = await startAedes();
    const { dir, env } = tempHome();
    const fleet = await startFleet({
      broker: broker.url, root: "espdht/before", devices: 1, interval: 2, model: "dht22", pin: 4, seed: "flash-e2e",
      dataDir: path.join(dir, "boards"), firmwareFile: FIRMWARE_OUT, log: () => {},
    });
    const console = await startSerialConsole(fleet.boards[0], 0);
    const watcher = await mqtt.connectAsync(broker.url, { clientId: "flash-e2e-watcher" });
    try {
      const id = fleet.ids[0];
      const seen: { info?: unknown; readings: unknown[]; raw: [string, Buffer][]; status?: string } = { readings: [], raw: [] };
      watcher.on("message", (topic, payload) => {
        if (topic.endsWith("/reading")) seen.raw.push([topic, payload]);
        if (topic.endsWith("/reading")) seen.readings.push(JSON.parse(payload.toString()));
        else if (topic.endsWith("/info")) seen.info = JSON.parse(payload.toString());
        else if (topic.endsWith("/status")) seen.status = payload.toString();
      });
      await watcher.subscribeAsync("espdht/after/#", { qos: 1 });

      const init = await runCli(["init", "-y", "--broker", broker.url, "--topic-root", "espdht/after", "--wifi-ssid", "workshop", "--wifi-password", "password1", "--interval", "3"], env);
      expect(init.code, init.stderr).toBe(0);
      // --verbose shows everything the CLI and the board print: the key is still not among it
      const flash = await runCli(["flash", "--port", `tcp://127.0.0.1:${console.port}`, "--verbose"], env, 120_000);
      expect(flash.code, flash.stderr).toBe(0);
      expect(flash.stderr).toMatch(/done: the board reboots/);
      const pending = readKeyringFile(path.join(dir, "keys.json")).pending.map((e) => e.key);
      expect(pending).toHaveLength(1);
      const key = pending[0];
      expect(JSON.parse(fleet.boards[0].spec.flash.get(CONFIG_FILE)!.toString("latin1")).key).toBe(key);
      expect(flash.stderr).toContain(keyFingerprint(key));
      expect(flash.stdout + flash.stderr).not.toContain(key);

      await expect.poll(() => seen.readings.length, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(2);
      for (const [topic, payload] of seen.raw) expect(signatureVerdict(topic, payload, key)).toBe("verified");
      const reading = validateReading(seen.readings[0]);
      expect(reading.ok).toBe(true);
      if (reading.ok) expect(reading.value.id).toBe(id);
      expect(seen.status).toBe("online");
      const info = validateInfo(seen.info);
      expect(info.ok).toBe(true);
      if (info.ok) {
        expect(info.value.root).toBe("espdht/after");
        expect(info.value.interval).toBe(3);
        expect(info.value.configError).toBeNull();
      }
      // what was flashed is what runs: .bootcde holds dist/firmware.js byte for byte
      const storage = fleet.boards[0].spec.flash;
      expect(storage.get(".bootcde")?.toString("latin1")).toBe(fs.readFileSync(FIRMWARE_OUT, "latin1"));
    } finally {
      await watcher.endAsync();
      await console.close();
      await fleet.stop();
      await broker.stop();
    }
  }, 180_000);
});
