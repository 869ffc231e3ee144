import { describe, expect, it } from "vitest";
import { SETTINGS_FILE } from "../../../firmware/contract/deviceConfig";
import { validateReply } from "../../../firmware/contract/payloads";
import { listenForCommands, RESTART_FILE } from "../../../firmware/app/commands";
import { createPeerLinks } from "../../../firmware/app/peerLinks";
import type { Publishing } from "../../../firmware/app/publishing";
import type { Sensing } from "../../../firmware/app/sensing";
import { bootFake, ID, R, start, Started } from "./harness";
import { MemoryStore } from "./fakeHal";
import { FakeMqttClient } from "./fakeMqttClient";

const CMD = `${R}/${ID}/cmd`;
const GROUP = `${R}/all/cmd`;
const REPLY = `${R}/${ID}/reply`;

function online(opts: Parameters<typeof start>[0] = {}): Started {
  const s = start(opts);
  s.client.connect();
  s.clock.advance(2000); // first reading done
  s.client.ack();
  s.client.clear();
  return s;
}

function replies(s: Started): any[] {
  const rs = s.client.json(REPLY);
  for (const r of rs) expect(validateReply(r)).toMatchObject({ ok: true });
  return rs;
}

describe("commands", () => {
  it("ping answers with the uptime", () => {
    const s = online();
    s.client.deliver(CMD, JSON.stringify({ id: "p1", op: "ping" }));
    expect(replies(s)).toEqual([{ re: "p1", ok: true, up: 2000 }]);
    expect(s.client.on(REPLY)[0]).toMatchObject({ qos: 1, retain: false });
  });

  it("read reads now, publishes the reading and returns it", () => {
    const s = online();
    s.dht.temperature = 23.4;
    s.clock.advance(1000);
    s.client.deliver(CMD, JSON.stringify({ id: "r1", op: "read" }));
    s.clock.advance(1500); // the sensor allows a read 2 s after the last one
    const [reply] = replies(s);
    expect(reply).toMatchObject({ re: "r1", ok: true, reading: { id: ID, seq: 1, temperature: 23.4, humidity: 40 } });
    expect(s.client.json(`${R}/${ID}/reading`)).toEqual([reply.reading]);
  });

  it("read publishes even when report-on-change would not", () => {
    const s = online({ config: { tempDelta: 5, humDelta: 50 } });
    s.client.deliver(CMD, JSON.stringify({ id: "r2", op: "read" }));
    s.clock.advance(1100); // 2 s after the previous read

    expect(s.client.json(`${R}/${ID}/reading`).length).toBe(1);
  });

  it("get returns the effective config without secrets", () => {
    const s = online({ config: { wifi: { ssid: "home", password: "wifipass" }, broker: { host: "b", port: 1883, username: "u", password: "brokerpass" } } });
    s.client.deliver(CMD, JSON.stringify({ id: "g1", op: "get" }));
    const [reply] = replies(s);
    expect(reply.config).toMatchObject({ interval: 10, model: "dht22", pin: 4, root: R, bufferSize: 48, wifi: "home", broker: { host: "b", port: 1883, tls: false } });
    expect(s.client.on(REPLY)[0].payload).not.toContain("pass");
  });

  it("set changes the interval at once, persists it, republishes info, and survives a restart", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    s.client.deliver(CMD, JSON.stringify({ id: "s1", op: "set", interval: 3, tempOffset: 0.5 }));
    expect(replies(s)).toEqual([{ re: "s1", ok: true, settings: { interval: 3, tempOffset: 0.5, humOffset: 0, tempDelta: 0, humDelta: 0, heartbeat: 0, groups: [], rule: "" } }]);
    expect(JSON.parse(storage.files[SETTINGS_FILE])).toMatchObject({ interval: 3, tempOffset: 0.5 });
    expect(s.client.json(`${R}/${ID}/info`)[0].interval).toBe(3);
    s.client.ack();
    s.clock.advance(9100);
    s.client.ack();
    const rs = s.client.json(`${R}/${ID}/reading`);
    expect(rs.map((r) => r.up)).toEqual([5032, 8032, 11032]);
    expect(rs[0].temperature).toBe(22);
    const again = start({ storage });
    expect(again.app.config).toMatchObject({ interval: 3, tempOffset: 0.5 });
    expect(again.app.configError).toBeNull();
  });

  it("set with an invalid value answers an error and changes nothing", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    s.client.deliver(CMD, JSON.stringify({ id: "s2", op: "set", interval: 3, humOffset: 99 }));
    expect(replies(s)).toEqual([{ re: "s2", ok: false, error: "humOffset must be -20..20" }]);
    expect(s.app.config.interval).toBe(10);
    expect(storage.files[SETTINGS_FILE]).toBeUndefined();
  });

  it("set with no setting or an unknown one is an error", () => {
    const s = online();
    s.client.deliver(CMD, JSON.stringify({ id: "s3", op: "set" }));
    s.client.deliver(CMD, JSON.stringify({ id: "s4", op: "set", pin: 5 }));
    const rs = replies(s);
    expect(rs.map((r) => [r.re, r.ok])).toEqual([["s3", false], ["s4", false]]);
    expect(rs[1].error).toBe("unknown setting 'pin'");
  });

  it("an unknown op gets an error naming it, with the command id", () => {
    const s = online();
    s.client.deliver(CMD, JSON.stringify({ id: "u1", op: "selfdestruct" }));
    expect(replies(s)).toEqual([{ re: "u1", ok: false, error: "unknown op 'selfdestruct' (expected read|set|get|ping|restart|rekey|link|unlink)" }]);
  });

  const malformed: [string, string | Uint8Array, string][] = [
    ["not JSON", "{op:", "command is not valid JSON"],
    ["a JSON array", "[1,2]", "command is not a JSON object"],
    ["a JSON string", '"ping"', "command is not a JSON object"],
    ["no id", '{"op":"ping"}', "id must be a string of 1..64 chars"],
    ["a numeric id", '{"id":5,"op":"ping"}', "id must be a string of 1..64 chars"],
    ["an id of 65 chars", JSON.stringify({ id: "x".repeat(65), op: "ping" }), "id must be a string of 1..64 chars"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "command is not valid UTF-8"],
    ["an empty payload", "", "command is not valid JSON"],
  ];
  for (const [name, payload, error] of malformed) {
    it(`answers ${name} with an error and re=null`, () => {
      const s = online();
      const before = JSON.stringify(s.app.config);
      s.client.deliver(CMD, payload);
      expect(replies(s)).toEqual([{ re: null, ok: false, error }]);
      expect(JSON.stringify(s.app.config)).toBe(before);
      expect(s.board.restarts).toBe(0);
    });
  }

  it("restart replies, then restarts the board a second later", () => {
    const s = online();
    s.clock.advance(58_000); // one minute after boot
    s.client.deliver(CMD, JSON.stringify({ id: "x1", op: "restart" }));
    expect(replies(s)).toEqual([{ re: "x1", ok: true }]);
    expect(s.board.restarts).toBe(0);
    s.clock.advance(1000);
    expect(s.board.restarts).toBe(1);
  });

  it("a restart command redelivered after the reboot does not restart again", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    s.clock.advance(58_000);
    s.client.deliver(CMD, JSON.stringify({ id: "x2", op: "restart" }));
    s.clock.advance(1000);
    expect(storage.readJSON(RESTART_FILE)).toBe("x2");
    const after = online({ storage });
    after.clock.advance(58_000);
    after.client.deliver(CMD, JSON.stringify({ id: "x2", op: "restart" }));
    after.clock.advance(5000);
    expect(after.board.restarts).toBe(0);
    expect(replies(after)).toEqual([{ re: "x2", ok: true }]);
    after.client.deliver(CMD, JSON.stringify({ id: "x3", op: "restart" }));
    after.clock.advance(1000);
    expect(after.board.restarts).toBe(1);
  });

  it("answers group commands (R/all/cmd) on its own reply topic", () => {
    const s = online();
    s.client.deliver(GROUP, JSON.stringify({ id: "g-all", op: "ping" }));
    expect(replies(s)).toEqual([{ re: "g-all", ok: true, up: 2000 }]);
  });

  it("ignores messages on other topics", () => {
    const s = online();
    s.client.deliver(`${R}/esp32-000000000000/cmd`, JSON.stringify({ id: "n", op: "restart" }));
    s.client.deliver(`${R}/${ID}/reply`, JSON.stringify({ id: "n", op: "ping" }));
    s.clock.advance(5000);
    expect(s.client.on(REPLY)).toEqual([]);
    expect(s.board.restarts).toBe(0);
  });

  it("replies while offline go to the client's queue (it sends them on reconnect)", () => {
    const s = online();
    s.client.drop();
    s.client.deliver(CMD, JSON.stringify({ id: "q", op: "ping" }));
    expect(s.client.on(REPLY)[0].queued).toBe(true);
  });
});

describe("listenForCommands (the part alone, with sensing and publishing stubbed)", () => {
  function commands(config: object = {}) {
    const s = bootFake(config);
    const client = new FakeMqttClient({ host: "b", port: 1883, tls: false }, { clientId: ID, clean: false, keepalive: 30 }, {});
    const calls: string[] = [];
    const published: [string, object][] = [];
    const sensing: Sensing = {
      start_: () => calls.push("start"),
      reschedule_: () => calls.push("reschedule"),
      readNow_: (done) => { calls.push("readNow"); done({ seq: 7, up: 5000, ts: null, temperature: 20, humidity: 50 }); },
    };
    const publishing: Publishing = {
      announce_: () => calls.push("announce"),
      flush_: () => calls.push("flush"),
      info_: () => calls.push("info"),
      publish_: (kind, payload) => { published.push([kind, payload]); },
    };
    // the links on a client of their own: this client shows the commands' subscriptions only
    const links = createPeerLinks(s.hal, s.device, new FakeMqttClient(client.target, client.options, {}));
    const onMessage = listenForCommands(s.hal, s.device, client, sensing, publishing, () => links);
    const deliver = (topic: string, command: object) => onMessage({ topic, payload: new TextEncoder().encode(JSON.stringify(command)), qos: 1, retain: false, dup: false });
    return { ...s, client, calls, published, deliver };
  }

  it("subscribes to the device's and the group's command topics", () => {
    expect(commands().client.subscriptions).toEqual([CMD, GROUP]);
  });

  it("read asks sensing for a reading now and replies with its payload", () => {
    const c = commands();
    c.deliver(CMD, { id: "r", op: "read" });
    expect(c.calls).toEqual(["readNow"]);
    expect(c.published).toEqual([["reply", { re: "r", ok: true, reading: { v: 1, id: ID, boot: 1, seq: 7, up: 5000, ts: null, temperature: 20, humidity: 50 } }]]);
  });

  it("set changes the config, saves the settings, restarts the interval timer and republishes info before replying", () => {
    const c = commands();
    c.deliver(GROUP, { id: "s", op: "set", interval: 30 });
    expect(c.device.config.interval).toBe(30);
    expect(JSON.parse(c.storage.files[SETTINGS_FILE]).interval).toBe(30);
    expect(c.calls).toEqual(["reschedule", "info"]);
    expect(c.published[0][1]).toMatchObject({ re: "s", ok: true, settings: { interval: 30 } });
  });

  it("ping replies with the uptime; other topics are ignored", () => {
    const c = commands();
    c.clock.advance(1234.4);
    c.deliver(`${R}/${ID}/reply`, { id: "n", op: "ping" });
    c.deliver(CMD, { id: "p", op: "ping" });
    expect(c.published).toEqual([["reply", { re: "p", ok: true, up: 1234 }]]);
  });
});
