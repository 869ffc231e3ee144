// R/D/output on the host: signed like every JSON message, validated, shown in the device's view, cleared by an empty
// retained message; info.output checked strictly.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { IngestEvent, IngestPipeline } from "../../../host/ingest/ingest";
import { strictInfoError } from "../../../host/ingest/infoCheck";
import { renderWatchTable } from "../../../host/terminal/watchTable";
import { DeviceTrust } from "../../../host/trust/deviceTrust";
import type { Info } from "../../../firmware/contract";
import { Keyring, newKeyHex, updateKeyringFile } from "../../../provisioning/keyring";
import { deviceSigned, withWrongSignature } from "../trust/deviceSigner";

const ROOT = "espdht/out";
const KEY = newKeyHex();
const enc = (s: string) => Buffer.from(s, "utf8");
let now = 1_750_000_000_000;
let ingest: IngestPipeline;
let events: IngestEvent[];

const state = (extra: object = {}) => ({ v: 1, id: "sim-a", on: true, why: "rule", pin: 5, since: 42_000, ts: 1_749_999_990_000, ...extra });
const topic = (id = "sim-a") => `${ROOT}/${id}/output`;
const handle = (payload: string | Buffer, id = "sim-a", retained = false) => {
  now += 10;
  return ingest.handle(topic(id), typeof payload === "string" ? enc(payload) : payload, retained);
};

beforeEach(() => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "espdht-output-")), "keys.json");
  updateKeyringFile(file, (d) => { d.devices["sim-a"] = { key: KEY, added: "2026-01-01T00:00:00.000Z" }; });
  ingest = new IngestPipeline({ root: ROOT, trust: new DeviceTrust(new Keyring(file), { now: () => now }), now: () => now });
  events = [];
  ingest.on((e) => events.push(e));
});

describe("the output topic", () => {
  it("a signed state becomes the device's output, with an event for watch --json, and a column in watch", () => {
    expect(handle(deviceSigned(KEY, topic(), state()), "sim-a", true).kind).toBe("output");
    const d = ingest.fleet.get("sim-a")!;
    expect(d.output).toEqual(state());
    expect(d.trust).toBe("verified");
    expect(events.find((e) => e.kind === "output")).toMatchObject({ output: state(), trust: "verified" });
    const [header, row] = renderWatchTable([d], now, false);
    expect(header).toContain("OUTPUT");
    expect(row).toContain("on (rule)");
  });

  it("an empty (retained) payload clears it; the device keeps its trust", () => {
    handle(deviceSigned(KEY, topic(), state()));
    expect(handle("", "sim-a", true).kind).toBe("output");
    const d = ingest.fleet.get("sim-a")!;
    expect(d.output).toBeNull();
    expect(d.trust).toBe("verified");
    expect(renderWatchTable([d], now, false)[1]).not.toContain("(rule)");
  });

  // each refused: rejected with its reason, the output as the good message left it
  it.each([
    ["unsigned", () => JSON.stringify(state({ on: false })), "output: unsigned"],
    ["forged", () => withWrongSignature(deviceSigned(KEY, topic(), state({ on: false }))), "output: bad-signature"],
    ["for another device's topic", () => deviceSigned(KEY, `${ROOT}/sim-b/output`, state({ on: false })), "output: bad-signature"],
    ["bad why", () => deviceSigned(KEY, topic(), state({ why: "magic" })), "output: why must be one of rule|failsafe|boot"],
    ["bad pin", () => deviceSigned(KEY, topic(), state({ pin: 40 })), "output: pin must be an ESP32 output GPIO"],
    ["on not a boolean", () => deviceSigned(KEY, topic(), state({ on: 1 })), "output: on must be true or false"],
    ["id of another device", () => deviceSigned(KEY, topic(), state({ id: "sim-b" })), "output: id does not match the topic's device"],
    ["not JSON (signed)", () => deviceSigned(KEY, topic(), [1, 2]), "output: invalid JSON"],
  ])("refuses one %s", (_name, payload, reason) => {
    handle(deviceSigned(KEY, topic(), state()));
    const out = handle(payload());
    expect(out).toMatchObject({ kind: "rejected", reason: expect.stringContaining(reason.split(": ")[1] === "bad-signature" ? "output: " : reason) });
    if (!reason.endsWith("bad-signature")) expect((out as { reason: string }).reason).toBe(reason);
    expect(ingest.fleet.get("sim-a")!.output).toEqual(state());
  });

  it("an unsigned output of a device without a key is shown as unsigned", () => {
    const o = { ...state(), id: "sim-c" };
    expect(handle(JSON.stringify(o), "sim-c").kind).toBe("output");
    expect(ingest.fleet.get("sim-c")).toMatchObject({ output: o, trust: "unsigned" });
  });
});

describe("info.output (strict)", () => {
  const info = (output: unknown) => ({ v: 1, id: "sim-a", fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: ROOT, caps: ["read"], dropped: 0, configError: null, output }) as unknown as Info;
  it("takes {rule, on, why} with a valid rule", () => {
    expect(strictInfoError(info({ rule: "temperature>24<23:pin=5", on: false, why: "boot" }))).toBeNull();
  });
  it.each([
    [{ rule: "temperature>23<24:pin=5", on: false, why: "rule" }],
    [{ rule: "", on: false, why: "rule" }],
    [{ rule: "temperature>24<23:pin=5", on: "no", why: "rule" }],
    [{ rule: "temperature>24<23:pin=5", on: true, why: "because" }],
    [{ rule: "temperature>24<23:pin=5", on: true, why: "rule", extra: 1 }],
    ["on"],
  ])("refuses %j", (output) => {
    expect(strictInfoError(info(output))).toMatch(/^output must be \{rule, on, why\}/);
  });
});
