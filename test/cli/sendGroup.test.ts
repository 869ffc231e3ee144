// Named groups end to end (issue 12 item 1): a real Mosquitto on loopback, three virtual boards running
// dist/firmware.js in two `espdht sim` processes (two boards in `kitchen`, one not), `espdht send group:kitchen`
// signing one copy per member and collecting their replies; `set groups` moving a board into the group, kept
// over a restart of its sim process; bad group names refused by the CLI, by the board and in info on the host.
import fs from "node:fs";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readKeyringFile } from "../../provisioning/keyring";
import { signObject } from "../../host/trust/signature";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { runCliToEnd, tempUserEnv } from "../support/runCli";
import { SimProcess, SimProcesses } from "../support/simProcesses";
import { until } from "../support/until";

const ROOT = "espdht/grouptest";
let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
let watcher: MqttClient;
/** every message under ROOT, in arrival order */
const seen: { topic: string; payload: string; retain: boolean }[] = [];
const sims = new SimProcesses(30);
type Sim = SimProcess;
const startSim = (args: string[]): Promise<Sim> => sims.start(env, args);
const stopSim = (sim: Sim): Promise<void> => sims.stop(sim);

const infos = (id: string) => seen.filter((m) => m.topic === `${ROOT}/${id}/info`).map((m) => JSON.parse(m.payload));
const lastInfo = (id: string) => infos(id).at(-1);
const repliesOf = (id: string) => seen.filter((m) => m.topic === `${ROOT}/${id}/reply`).map((m) => JSON.parse(m.payload));

let kitchen: Sim;
let other: Sim;

beforeAll(async () => {
  broker = await startMosquitto();
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
  watcher = await mqtt.connectAsync(broker.url, { clientId: "group-test-watcher", clean: true });
  watcher.on("message", (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await watcher.subscribeAsync(`${ROOT}/#`, { qos: 1 });
  // one after the other: both write their boards' keys into the one keyring
  kitchen = await startSim(["--devices", "2", "--seed", "kitchen-boards", "--groups", "kitchen,floor1"]);
  other = await startSim(["--devices", "1", "--seed", "other-board"]);
  for (const id of [...kitchen.ids, ...other.ids]) await until(() => infos(id).length > 0, 60_000, `info of ${id}`);
}, 150_000);

afterAll(async () => {
  sims.killAll();
  await watcher?.endAsync();
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("named groups end to end", () => {
  it("each board's info lists its groups", () => {
    for (const id of kitchen.ids) expect(lastInfo(id).groups).toEqual(["kitchen", "floor1"]);
    expect(lastInfo(other.ids[0]).groups).toEqual([]);
    expect(kitchen.output()).toContain("groups kitchen,floor1");
    expect(kitchen.output()).toMatch(/"event":"start".*"groups":\["kitchen","floor1"\]/);
  });

  it("watch shows the groups and --group keeps only the members", async () => {
    const json = await runCliToEnd(["watch", "--once", "--json", "--wait", "4", "--group", "kitchen"], env);
    expect(json.code, json.stderr).toBe(0);
    const views = JSON.parse(json.stdout);
    expect(views.map((d: { id: string }) => d.id).sort()).toEqual([...kitchen.ids].sort());
    for (const d of views) expect(d.info.groups).toEqual(["kitchen", "floor1"]);
    const table = await runCliToEnd(["watch", "--once", "--wait", "4"], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^DEVICE\s+STATUS\s+TRUST\s+GROUPS\s/m);
    for (const id of kitchen.ids) expect(table.stdout).toMatch(new RegExp(`^${id}\\s+\\S+\\s+verified\\s+kitchen,floor1\\s`, "m"));
    expect(table.stdout).toMatch(new RegExp(`^${other.ids[0]}\\s+\\S+\\s+verified\\s+-\\s`, "m"));
    const none = await runCliToEnd(["watch", "--once", "--wait", "2", "--group", "garage"], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no device in group 'garage' seen");
    const bad = await runCliToEnd(["watch", "--group", "a/b"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--group: group name 'a/b' has "/"`);
  }, 60_000);

  it("send group:kitchen reaches exactly the two members, collects their signed replies; the third board is untouched", async () => {
    const before = seen.length;
    const r = await runCliToEnd(["send", "group:kitchen", "ping", "--json", "--timeout", "20"], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.device).sort()).toEqual([...kitchen.ids].sort());
    for (const l of lines) expect(l).toMatchObject({ ok: true, trust: "verified", up: expect.any(Number) });
    expect(r.stderr).toContain(`2 of 2 member(s) of group kitchen answered`);
    // one signed copy per member on the group topic, each naming its member
    const copies = seen.slice(before).filter((m) => m.topic === `${ROOT}/group/kitchen/cmd`).map((m) => JSON.parse(m.payload));
    expect(copies.map((c) => c.to).sort()).toEqual([...kitchen.ids].sort());
    for (const c of copies) expect(c).toMatchObject({ op: "ping", id: lines[0].re, sig: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(seen.slice(before).filter((m) => m.topic === `${ROOT}/${other.ids[0]}/reply`)).toEqual([]);
    // human output names each member
    const text = await runCliToEnd(["send", "group:floor1", "read", "--timeout", "20"], env);
    expect(text.code, text.stderr).toBe(0);
    for (const id of kitchen.ids) expect(text.stdout).toMatch(new RegExp(`^${id}: ok \\(verified\\)`, "m"));
  }, 60_000);

  it("a group with no known member: exit 3 and a clear message", async () => {
    const r = await runCliToEnd(["send", "group:garage", "ping", "--timeout", "2"], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("no known member of group 'garage'");
  }, 30_000);

  it("refuses bad group names and too many groups with clear errors before touching the network", async () => {
    const cases: [string[], string][] = [
      [["send", "group:a/b", "ping"], `'group:a/b': group name 'a/b' has "/": only letters, digits, '-' and '_'`],
      [["send", "group:k+", "ping"], `group name 'k+' has "+"`],
      [["send", "group:#", "ping"], `group name '#' has "#"`],
      [["send", "group:", "ping"], "the group name is empty"],
      [["send", "group:all", "ping"], "'all' is not a group name"],
      [["send", `group:${"g".repeat(65)}`, "ping"], "has 65 characters, at most 64"],
      [["send", other.ids[0], "set", "groups=a,b,c,d,e"], "groups: at most 4 groups per device (got 5: a, b, c, d, e)"],
      [["send", other.ids[0], "set", "groups=kitchen,kitchen"], "group 'kitchen' is listed twice"],
      [["send", other.ids[0], "set", "groups=kitchen,x y"], `group name 'x y' has " "`],
      [["sim", "--groups", "a,b,c,d,e"], "--groups: at most 4 groups per device"],
      [["sim", "--groups", "kit/chen"], `--groups: group name 'kit/chen' has "/"`],
    ];
    for (const [args, message] of cases) {
      const r = await runCliToEnd(args, env);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
  }, 60_000);

  it("the board itself refuses a signed set with a bad group list, naming the group", async () => {
    const id = other.ids[0];
    const key = Buffer.from(readKeyringFile(path.join(dir, "keys.json")).devices[id].key, "hex");
    const topic = `${ROOT}/${id}/cmd`;
    const n = Date.now();
    const exp = Math.floor(n / 1000) + 300;
    await watcher.publishAsync(topic, signObject(key, topic, { id: "bad1", op: "set", groups: ["ok", "no/pe"], to: id, n, exp }), { qos: 1 });
    await watcher.publishAsync(topic, signObject(key, topic, { id: "bad2", op: "set", groups: ["a", "b", "c", "d", "e"], to: id, n: n + 1, exp }), { qos: 1 });
    await until(() => repliesOf(id).some((r) => r.re === "bad2"), 20_000, "the board's replies");
    const [r1, r2] = ["bad1", "bad2"].map((re) => repliesOf(id).find((r) => r.re === re));
    expect(r1).toMatchObject({ ok: false, error: "group 'no/pe': 1..64 of A-Za-z0-9_- once, not all" });
    expect(r2).toMatchObject({ ok: false, error: "groups: a list of up to 4 names" });
  }, 30_000);

  it("set groups moves a board into the group, and it stays there after its sim restarts", async () => {
    const id = other.ids[0];
    const set = await runCliToEnd(["send", id, "set", "groups=kitchen", "--json", "--timeout", "20"], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ ok: true, settings: { groups: ["kitchen"] } });
    await until(() => lastInfo(id).groups.length === 1, 20_000, "the republished info");
    expect(lastInfo(id).groups).toEqual(["kitchen"]);

    const bootBefore = lastInfo(id).boot;
    await stopSim(other);
    const infosBefore = infos(id).length;
    other = await startSim(["--devices", "1", "--seed", "other-board"]);
    expect(other.ids).toEqual([id]);
    await until(() => infos(id).length > infosBefore, 60_000, "info after the restart");
    // a new boot of the same board (its Storage file kept) read the saved groups back
    expect(lastInfo(id)).toMatchObject({ boot: bootBefore + 1, groups: ["kitchen"] });

    const r = await runCliToEnd(["send", "group:kitchen", "ping", "--json", "--timeout", "20"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).device).sort()).toEqual([...kitchen.ids, id].sort());
  }, 120_000);

  it("says which members did not answer (exit 3)", async () => {
    await stopSim(kitchen);
    const r = await runCliToEnd(["send", "group:kitchen", "ping", "--json", "--timeout", "3"], env);
    expect(r.code).toBe(3);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).device)).toEqual([other.ids[0]]);
    expect(r.stderr).toContain(`1 of 3 member(s) of group kitchen answered; no reply within 3 s from ${[...kitchen.ids].sort().join(", ")}`);
  }, 60_000);
});
