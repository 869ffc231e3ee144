// `espdht send` end to end: the real CLI, a real Mosquitto and MQTT.js clients answering as devices.
import fs from "node:fs";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";
import { validateCommand } from "../../firmware/contract";

const ROOT = "espdht/sendtest";
let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
const devices: MqttClient[] = [];

/** A device that answers every valid command; `fail` answers ok:false. */
async function fakeDevice(id: string, behaviour: "ok" | "fail" | "silent" = "ok"): Promise<{ client: MqttClient; commands: unknown[] }> {
  const client = await mqtt.connectAsync(broker.url, { clientId: id, clean: true });
  const commands: unknown[] = [];
  client.on("message", (_topic, payload) => {
    const cmd = JSON.parse(payload.toString());
    commands.push(cmd);
    if (behaviour === "silent") return;
    const v = validateCommand(cmd);
    const reply = !v.ok ? { re: cmd.id ?? null, ok: false, error: v.error }
      : behaviour === "fail" ? { re: v.value.id, ok: false, error: "sensor busy" }
      : { re: v.value.id, ok: true, op: v.value.op, ...(v.value.set ?? {}) };
    client.publish(`${ROOT}/${id}/reply`, JSON.stringify(reply), { qos: 1 });
  });
  await client.subscribeAsync([`${ROOT}/${id}/cmd`, `${ROOT}/all/cmd`], { qos: 1 });
  devices.push(client);
  return { client, commands };
}

beforeAll(async () => {
  broker = await startMosquitto();
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
});
afterAll(async () => {
  for (const d of devices) d.end(true);
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("espdht send", () => {
  it("sends set interval=30 and prints the reply as JSON, exit 0", async () => {
    const dev = await fakeDevice("sim-send1");
    const run = runCli(["send", "sim-send1", "set", "interval=30", "--json"], env);
    expect(await run.done).toBe(0);
    const reply = JSON.parse(run.stdout().trim());
    expect(reply).toMatchObject({ ok: true, op: "set", interval: 30 });
    expect(dev.commands).toEqual([{ id: reply.re, op: "set", interval: 30 }]);
  });

  it("exits 1 when the device answers ok:false", async () => {
    await fakeDevice("sim-send2", "fail");
    const run = runCli(["send", "sim-send2", "read"], env);
    expect(await run.done).toBe(1);
    expect(run.stdout()).toContain("FAILED: sensor busy");
  });

  it("exits 3 with a clear message on timeout", async () => {
    await fakeDevice("sim-send3", "silent");
    const run = runCli(["send", "sim-send3", "ping", "--timeout", "1"], env);
    expect(await run.done).toBe(3);
    expect(run.stderr()).toContain("no reply from sim-send3 within 1 s");
    expect(run.stdout()).toBe("");
  });

  it("collects every reply for 'all' until the timeout", async () => {
    const run = runCli(["send", "all", "ping", "--timeout", "2", "--json"], env);
    expect(await run.done).toBe(1); // sim-send2 answers ok:false
    const replies = JSON.parse(run.stdout()) as { device: string; ok: boolean }[];
    expect(replies.map((r) => r.device).sort()).toEqual(["sim-send1", "sim-send2"]);
  });

  it.each([
    [["send", "sim-x", "fly"], "unknown op 'fly'"],
    [["send", "sim-x", "set", "speed=3"], "unknown setting 'speed'"],
    [["send", "sim-x", "set", "interval=1"], "interval must be 2..86400 seconds"],
    [["send", "sim-x", "set", "interval"], "'interval' is not key=value"],
    [["send", "bad<id>", "read"], "is not a device id"],
    [["send", "sim-x", "read", "--timeout", "abc"], "--timeout: 'abc' is not a number"],
    [["send", "sim-x", "read", "--broker", "http://x"], "--broker: 'http:' is not supported"],
  ])("rejects %j with a clear error (exit 2)", async (args, message) => {
    const run = runCli(args, env);
    expect(await run.done).toBe(2);
    expect(run.stderr()).toContain(message);
  });
});
