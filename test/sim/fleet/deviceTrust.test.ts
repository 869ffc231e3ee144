// A simulated board with a key (dist/firmware.js on the virtual ESP32) against a real Mosquitto: its readings and
// info verify under its key with node:crypto alone; a client using the device's public id cannot take its session;
// a flood of commands is rate-limited while the board stays up.
import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { splitSigned, signatureTail, validateInfo, validateReading } from "../../../firmware/contract";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { Fleet, fleetDeviceConfig, startFleet } from "../../../sim/fleet/fleet";
import { simDeviceId } from "../../../sim/fleet/deviceId";
import { RunningBroker, startMosquitto } from "../../support/brokers";
import { record, Recorder } from "./subscriber";

const KEY = randomBytes(32).toString("hex");
const mac = (data: string) => createHmac("sha256", Buffer.from(KEY, "hex")).update(data).digest("hex");

/** Verifies a payload as a third party would: the last 42 bytes, HMAC over topic \n body, then JSON. */
function verify(topic: string, text: string): any {
  const split = splitSigned(new Uint8Array(Buffer.from(text)));
  if (!split) throw new Error(`unsigned on ${topic}: ${text}`);
  if (mac(topic + "\n" + Buffer.from(split.body).toString()).slice(0, 32) !== split.sig) throw new Error(`bad signature on ${topic}: ${text}`);
  return JSON.parse(text);
}

describe("a simulated board with a key, on Mosquitto", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  let fleet: Fleet;
  const root = "espdht/devicetrust";
  const seed = "devicetrust-" + Date.now();
  const id = simDeviceId(seed, 0);
  const topic = (kind: string) => `${root}/${id}/${kind}`;
  const of = (kind: string) => sub.messages.filter((m) => m.topic === topic(kind));

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await record(broker.url, root + "/#");
    const base = { broker: broker.url, root, devices: 1, interval: 2, model: "dht22" as const, pin: 4, seed, dataDir: null, firmwareFile: FIRMWARE_OUT };
    fleet = await startFleet({ ...base, deviceConfig: { ...fleetDeviceConfig(base), key: KEY }, log: () => {} });
    await sub.until(() => of("reading").length >= 2, 20_000, "two readings");
  }, 30_000);
  afterAll(async () => {
    await fleet?.stop();
    await sub?.close();
    await broker?.stop();
  });

  it("publishes readings and info that verify under its key; status stays plain", () => {
    const readings = of("reading").map((m) => verify(m.topic, m.text));
    for (const r of readings) expect(validateReading(r)).toMatchObject({ ok: true });
    expect(readings[0]).toMatchObject({ id, boot: 1, seq: 0 });
    expect(validateInfo(verify(topic("info"), of("info")[0].text))).toMatchObject({ ok: true });
    expect(of("status")[0].text).toBe("online");
    for (const m of sub.messages) expect(m.text).not.toContain(KEY);
    // the signature binds the topic: the same bytes do not verify as another device's reading
    expect(() => verify(`${root}/sim-000000000000/reading`, of("reading")[0].text)).toThrow("bad signature");
  });

  it("keeps its session when a client connects with the device's public id; its keyed id would take it", async () => {
    const board = fleet.boards[0];
    expect(board.wire.clientId).toBe("d-" + mac("client-id").slice(0, 24));
    const connects = board.wire.connects;
    for (let i = 0; i < 3; i++) {
      const impostor = await mqtt.connectAsync(broker.url, { clientId: id, clean: false, reconnectPeriod: 0 });
      await new Promise((r) => setTimeout(r, 300));
      await impostor.endAsync();
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(board.wire.connects).toBe(connects);
    expect(board.wire.connected).toBe(true);
    // the control: the keyed id (known only with the key) does take the session over, so the check above can fail
    const holder = await mqtt.connectAsync(broker.url, { clientId: board.wire.clientId!, clean: false, reconnectPeriod: 0 });
    await holder.endAsync();
    await sub.until(() => board.wire.connects > connects, 15_000, "the board to reconnect after the takeover");
  });

  it("rate-limits a command flood and stays up", async () => {
    const board = fleet.boards[0];
    const cmd = topic("cmd");
    let n = Date.now();
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const c = { id: "flood" + i, op: "ping", to: id, n: ++n, exp: Math.floor(Date.now() / 1000) + 300 };
      const body = JSON.stringify(c).slice(0, -1);
      sent.push(c.id);
      sub.client.publish(cmd, body + signatureTail(mac(cmd + "\n" + body).slice(0, 32)), { qos: 1 });
    }
    const replies = () => of("reply").map((m) => verify(m.topic, m.text)).filter((r) => sent.includes(r.re));
    await sub.until(() => replies().some((r) => r.error === "rate limited"), 15_000, "a rate-limited reply");
    await new Promise((r) => setTimeout(r, 1500));
    const ok = replies().filter((r) => r.ok);
    // a burst of 5, and maybe one more token while the flood arrived; everything else refused, never run later
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThanOrEqual(6);
    expect(replies().filter((r) => !r.ok).every((r) => r.error === "rate limited")).toBe(true);
    expect(board.boots).toBe(1);
    // info on the next connect counts them
    const infos = of("info").length;
    board.setBrokerReachable(false);
    board.setBrokerReachable(true);
    await sub.until(() => of("info").length > infos, 20_000, "info after a reconnect");
    const info = verify(topic("info"), of("info").at(-1)!.text);
    expect(info.rateLimited).toBe(20 - ok.length);
    expect(info.refused).toBe(0);
  }, 60_000);
});
