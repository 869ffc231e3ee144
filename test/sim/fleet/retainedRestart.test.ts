// Retained restart commands (an unsigned one on R/all/cmd and a validly signed one on R/D/cmd), their publisher
// gone, used to reboot a board at every reconnect. Now the board ignores whatever arrives retained: over more than
// a minute of reconnects, past the 60 s restart grace, its boot count does not move. Real Mosquitto, dist/firmware.js.
import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { signatureTail, splitSigned } from "../../../firmware/contract";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { Fleet, fleetDeviceConfig, startFleet } from "../../../sim/fleet/fleet";
import { simDeviceId } from "../../../sim/fleet/deviceId";
import { RunningBroker, startMosquitto } from "../../support/brokers";
import { record, Recorder } from "./subscriber";

const KEY = randomBytes(32).toString("hex");
const mac = (data: string) => createHmac("sha256", Buffer.from(KEY, "hex")).update(data).digest("hex").slice(0, 32);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("retained restart commands on Mosquitto", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  let fleet: Fleet;
  const root = "espdht/retainedrestart";
  const seed = "retained-" + Date.now();
  const id = simDeviceId(seed, 0);
  const topic = (kind: string) => `${root}/${id}/${kind}`;
  const infos = () => sub.messages.filter((m) => m.topic === topic("info")).map((m) => {
    const split = splitSigned(new Uint8Array(Buffer.from(m.text)))!;
    expect(split.sig).toBe(mac(m.topic + "\n" + Buffer.from(split.body).toString()));
    return JSON.parse(m.text);
  });

  beforeAll(async () => {
    broker = await startMosquitto();
    // the attacker's retained commands are waiting before the board ever connects, their publisher gone
    const attacker = await mqtt.connectAsync(broker.url, { clientId: "attacker", clean: true, reconnectPeriod: 0 });
    await attacker.publishAsync(`${root}/all/cmd`, JSON.stringify({ id: "loop-all", op: "restart" }), { qos: 1, retain: true });
    // and one the real host signed (say, sent with the retain flag by mistake): valid signature, new n, not expired
    const cmd = topic("cmd");
    const body = JSON.stringify({ id: "loop-signed", op: "restart", to: id, n: Date.now(), exp: Math.floor(Date.now() / 1000) + 3600 }).slice(0, -1);
    await attacker.publishAsync(cmd, body + signatureTail(mac(cmd + "\n" + body)), { qos: 1, retain: true });
    await attacker.endAsync();
    sub = await record(broker.url, root + "/#");
    const base = { broker: broker.url, root, devices: 1, interval: 2, model: "dht22" as const, pin: 4, seed, dataDir: null, firmwareFile: FIRMWARE_OUT, rebootMs: 100 };
    fleet = await startFleet({ ...base, deviceConfig: { ...fleetDeviceConfig(base), key: KEY }, log: () => {} });
  });
  afterAll(async () => {
    await fleet?.stop();
    await sub?.close();
    await broker?.stop();
  });

  it("never restarts the board: boot count unchanged over a minute of reconnects", async () => {
    const board = fleet.boards[0];
    await sub.until(() => infos().length >= 1, 15_000, "the first info");
    const poweredAt = Date.now();
    /** drops the broker connection (as a network cut) and waits for the board's next connect */
    const reconnect = async () => {
      const before = infos().length;
      board.setBrokerReachable(false);
      await sleep(200);
      board.setBrokerReachable(true);
      await sub.until(() => infos().length > before, 20_000, "info after a reconnect");
    };
    // twice within the restart grace, then twice after it (the backoff grows while connections are short)
    for (const at of [20_000, 40_000, 62_000, 68_000]) {
      await sleep(Math.max(0, poweredAt + at - Date.now()));
      await reconnect();
    }
    expect(Date.now() - poweredAt).toBeGreaterThan(62_000);
    await sleep(1500);
    const all = infos();
    expect(all.length).toBe(5);
    expect(board.boots).toBe(1);
    expect(all.map((i) => i.boot)).toEqual([1, 1, 1, 1, 1]);
    // the broker really handed both retained commands over at every connect (info counts those seen before it)
    expect(all.map((i) => i.retainedCmds)).toEqual([0, 2, 4, 6, 8]);
    // ignored without an answer
    expect(sub.messages.filter((m) => m.topic === topic("reply"))).toEqual([]);
  }, 110_000);
});
