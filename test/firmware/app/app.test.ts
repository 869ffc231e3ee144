import { describe, expect, it } from "vitest";
import { BOOT_COUNT_FILE, CONFIG_FILE, SETTINGS_FILE } from "../../../firmware/contract/deviceConfig";
import { validateInfo, validateReading, validateReply } from "../../../firmware/contract/payloads";
import { ID, R, start } from "./harness";
import { MemoryStore } from "./fakeHal";

describe("app: boot", () => {
  it("takes the device id from the HAL and connects with clean=false, a retained QoS 1 will and the config's broker", () => {
    const s = start({ config: { broker: { host: "broker.local", port: 1884, username: "u", password: "p" }, keepalive: 45 } });
    expect(s.app.id).toBe(ID);
    expect(s.client.target).toEqual({ host: "broker.local", port: 1884, tls: false });
    expect(s.client.options).toMatchObject({
      clientId: ID, clean: false, keepalive: 45, username: "u", password: "p",
      will: { topic: `${R}/${ID}/status`, payload: "offline", qos: 1, retain: true },
    });
    // no link filter: the board has no link
    expect(s.client.subscriptions).toEqual([`${R}/${ID}/cmd`, `${R}/all/cmd`]);
    expect(s.client.started).toBe(true);
  });

  it("counts boots in Storage and reports the count in info", () => {
    const storage = new MemoryStore();
    const boot = () => {
      const s = start({ storage });
      s.client.connect();
      return s.client.json(`${R}/${ID}/info`)[0].boot;
    };
    expect(boot()).toBe(1);
    expect(boot()).toBe(2);
    expect(boot()).toBe(3);
    expect(storage.readJSON(BOOT_COUNT_FILE)).toBe(3);
    storage.files[BOOT_COUNT_FILE] = '"garbage"';
    expect(boot()).toBe(1);
  });

  it("switches the telnet console off at boot unless the config enables it", () => {
    expect(start().board.telnet).toEqual(["off"]);
    expect(start({ config: { telnet: true } }).board.telnet).toEqual(["on"]);
  });

  it("falls back to the defaults on an invalid config and reports why in info", () => {
    const s = start({ config: { interval: 1, root: "mine/home" } });
    expect(s.app.config.interval).toBe(10);
    expect(s.app.config.root).toBe(R);
    expect(s.app.configError).toContain("interval must be 2..86400");
    s.client.connect();
    const info = s.client.json(`${R}/${ID}/info`)[0];
    expect(info.configError).toContain(CONFIG_FILE);
  });

  it("survives a config file that is not JSON", () => {
    const storage = new MemoryStore();
    storage.files[CONFIG_FILE] = "{broken";
    const s = start({ storage });
    expect(s.app.config.interval).toBe(10);
    expect(s.app.configError).toBe(CONFIG_FILE + ": not valid JSON");
  });

  it("applies saved settings all-or-nothing, and reports a bad settings file next to the config's error", () => {
    const storage = new MemoryStore();
    storage.files[SETTINGS_FILE] = JSON.stringify({ interval: 30, tempOffset: 99 });
    const s = start({ storage });
    expect(s.app.config.interval).toBe(10);
    expect(s.app.configError).toBe(SETTINGS_FILE + ": tempOffset must be -20..20");
    storage.files[SETTINGS_FILE] = JSON.stringify({ interval: 30, tempOffset: 1.5 });
    storage.files[CONFIG_FILE] = "{broken";
    const t = start({ storage });
    expect(t.app.config).toMatchObject({ interval: 30, tempOffset: 1.5 });
    expect(t.app.configError).toBe(CONFIG_FILE + ": not valid JSON");
    storage.files[SETTINGS_FILE] = "[oops";
    expect(start({ storage }).app.configError).toBe(CONFIG_FILE + ": not valid JSON; " + SETTINGS_FILE + ": not valid JSON");
    storage.files[CONFIG_FILE] = JSON.stringify({ interval: 20 });
    storage.files[SETTINGS_FILE] = "[30]";
    const u = start({ storage });
    expect(u.app.config.interval).toBe(20);
    expect(u.app.configError).toBe(SETTINGS_FILE + ": config is not a JSON object");
  });

  it("applies a valid config", () => {
    const s = start({ config: { root: "espdht/home1", interval: 30, model: "dht11", pin: 13, homeAssistant: true } });
    expect(s.app.configError).toBeNull();
    expect(s.app.config).toMatchObject({ root: "espdht/home1", interval: 30, model: "dht11", pin: 13 });
    s.clock.advance(2000);
    expect(s.dht.starts).toBe(1);
    expect(new Set(s.dht.pinsUsed)).toEqual(new Set([13]));
  });
});

describe("app: connect", () => {
  it("publishes online (retained), then a retained info that validates", () => {
    const s = start();
    s.client.connect();
    expect(s.client.sent.slice(0, 2).map((m) => [m.topic, m.retain, m.qos])).toEqual([
      [`${R}/${ID}/status`, true, 1],
      [`${R}/${ID}/info`, true, 1],
    ]);
    expect(s.client.sent[0].payload).toBe("online");
    const info = JSON.parse(s.client.sent[1].payload);
    expect(validateInfo(info)).toMatchObject({ ok: true });
    expect(info).toMatchObject({ id: ID, model: "dht22", pin: 4, interval: 10, ip: "192.168.1.50", boot: 1, root: R, dropped: 0, configError: null, mem: { free: 9000, total: 12000 } });
    expect(info.caps).toEqual(["read", "set", "get", "ping", "restart", "rekey", "link", "unlink"]);
    // process.memory() says more (usage, gc, ...): info carries free and total only
    expect(info.mem).toEqual({ free: 9000, total: 12000 });
  });

  it("publishes info again on every reconnect", () => {
    const s = start();
    s.client.connect();
    s.client.drop();
    s.client.connect();
    expect(s.client.on(`${R}/${ID}/info`).length).toBe(2);
    expect(s.client.on(`${R}/${ID}/status`).length).toBe(2);
  });

  it("publishes no Home Assistant discovery by default", () => {
    const s = start();
    s.client.connect();
    expect(s.client.sent.filter((m) => m.topic.startsWith("homeassistant/"))).toEqual([]);
  });

  it("publishes retained Home Assistant discovery for both quantities when enabled", () => {
    const s = start({ config: { homeAssistant: true, root: "espdht/h" } });
    s.client.connect();
    const t = s.client.on(`homeassistant/sensor/${ID}_temperature/config`);
    const h = s.client.on(`homeassistant/sensor/${ID}_humidity/config`);
    expect(t.length).toBe(1);
    expect(h.length).toBe(1);
    expect(t[0].retain && h[0].retain).toBe(true);
    const tc = JSON.parse(t[0].payload);
    expect(tc).toMatchObject({
      uniq_id: `${ID}_temperature`, dev_cla: "temperature", unit_of_meas: "\u00b0C", stat_t: `espdht/h/${ID}/reading`,
      val_tpl: "{{value_json.temperature}}", avty_t: `espdht/h/${ID}/status`, dev: { ids: [ID] },
    });
    expect(JSON.parse(h[0].payload)).toMatchObject({ dev_cla: "humidity", unit_of_meas: "%", val_tpl: "{{value_json.humidity}}" });
  });
});

describe("app: Wi-Fi", () => {
  it("joins the configured network, then starts SNTP and MQTT", () => {
    const s = start({ config: { wifi: { ssid: "home", password: "secret" }, ntpServer: "ntp.example" } });
    expect(s.wifi.connects).toEqual(["home/secret"]);
    // the ESP32 build throws on a numeric zone: a POSIX TZ string
    expect(s.wifi.sntp).toEqual([["ntp.example", "UTC0"]]);
    expect(s.client.started).toBe(true);
  });

  it("backs off 5 s, 10 s, 20 s between failed joins", async () => {
    const { fakeHal } = await import("./fakeHal");
    const { startApp } = await import("../../../firmware/app/app");
    const { FakeMqttClient } = await import("./fakeMqttClient");
    const set = fakeHal();
    set.storage.files[CONFIG_FILE] = JSON.stringify({ wifi: { ssid: "home", password: "x" } });
    set.wifi.nextResult = "auth failed";
    let client: InstanceType<typeof FakeMqttClient> | null = null;
    startApp(set.hal, (t, o, e) => (client = new FakeMqttClient(t, o, e)));
    const at: number[] = [];
    const orig = set.wifi.connect.bind(set.wifi);
    set.wifi.connect = (a, b, cb) => { at.push(set.clock.now()); orig(a, b, cb); };
    set.clock.advance(35_000);
    expect(at).toEqual([5000, 15000, 35000]);
    expect(client!.started).toBe(false);
    set.wifi.nextResult = null;
    set.clock.advance(40_000);
    expect(client!.started).toBe(true);
    expect(set.wifi.sntp.length).toBe(1);
    // a drop later reconnects after 5 s again
    set.wifi.fire("disconnected");
    set.clock.advance(5000);
    expect(at[at.length - 1]).toBe(set.clock.now());
  });
});

describe("app: readings", () => {
  it("reads every interval (default 10 s) and publishes readings that validate, seq growing by one", () => {
    const s = start();
    s.client.connect();
    s.client.ack();
    s.clock.advance(35_000);
    s.client.ack();
    const readings = s.client.json(`${R}/${ID}/reading`);
    expect(readings.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    for (const r of readings) expect(validateReading(r)).toMatchObject({ ok: true });
    expect(readings[0]).toMatchObject({ v: 1, id: ID, boot: 1, ts: null, temperature: 21.5, humidity: 40 });
    // first read after the sensor's 1 s power-up, then every 10 s
    expect(readings.map((r) => r.up)).toEqual([1032, 10032, 20032, 30032]);
  });

  it("sets ts once the clock is set", () => {
    const s = start();
    s.client.connect();
    s.clock.advance(5000);
    s.unix.offset = 1_700_000_000_000;
    s.clock.advance(10_000);
    const readings = s.client.json(`${R}/${ID}/reading`);
    expect(readings[0].ts).toBeNull();
    expect(readings[1].ts).toBe(1_700_000_000_000 + readings[1].up);
  });

  it("applies per-quantity offsets", () => {
    const s = start({ config: { tempOffset: -1.25, humOffset: 2.5 } });
    s.client.connect();
    s.clock.advance(2000);
    expect(s.client.json(`${R}/${ID}/reading`)[0]).toMatchObject({ temperature: 20.25, humidity: 42.5 });
  });

  // the host rejects humidity outside 0..100 %: a calibrated 99 % + 3 must read 100, not vanish as invalid
  it.each([[99, 3, 100], [1, -3, 0], [50, 3, 53]])("keeps humidity %s with offset %s within 0..100 (%s)", (raw, offset, published) => {
    const s = start({ config: { humOffset: offset } });
    s.dht.humidity = raw;
    s.client.connect();
    s.clock.advance(2000);
    const reading = s.client.json(`${R}/${ID}/reading`)[0];
    expect(reading.humidity).toBe(published);
    expect(validateReading(reading)).toMatchObject({ ok: true });
  });

  it("publishes failed reads as typed errors, never as values", () => {
    const s = start();
    s.client.connect();
    s.dht.fault = "silent";
    s.clock.advance(10_000);
    s.dht.fault = "garbled";
    s.clock.advance(10_000);
    const readings = s.client.json(`${R}/${ID}/reading`);
    expect(readings.map((r) => r.error)).toEqual(["timeout", "checksum"]);
    for (const r of readings) {
      expect(validateReading(r)).toMatchObject({ ok: true });
      expect(r.temperature).toBeUndefined();
    }
  });

  it("reads a negative temperature", () => {
    const s = start();
    s.dht.temperature = -12.3;
    s.client.connect();
    s.clock.advance(2000);
    expect(s.client.json(`${R}/${ID}/reading`)[0].temperature).toBe(-12.3);
  });
});

describe("app: offline buffer", () => {
  it("buffers readings while offline and sends them oldest first after connecting, after status and info", () => {
    const s = start();
    s.clock.advance(45_000);
    expect(s.client.on(`${R}/${ID}/reading`)).toEqual([]);
    s.client.connect();
    const kinds = s.client.sent.map((m) => m.topic.split("/").pop());
    expect(kinds).toEqual(["status", "info", "reading", "reading", "reading", "reading", "reading"]);
    expect(s.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(s.client.sent.every((m) => !m.queued)).toBe(true);
  });

  it("hands readings over only while the client has in-flight room, and continues on each PUBACK", () => {
    const s = start();
    s.clock.advance(45_000);
    s.client.maxInflight = 4;
    s.client.connect(); // status + info take 2 slots
    expect(s.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([0, 1]);
    s.client.ack(1);
    expect(s.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([0, 1, 2]);
    s.client.ack();
    expect(s.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it("drops the oldest when full (spill off), counts the drops in info, and keeps seq gaps visible", () => {
    const s = start({ config: { bufferSize: 3, spillLimit: 0 } });
    s.clock.advance(45_000);
    s.client.connect();
    expect(s.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(s.client.json(`${R}/${ID}/info`)[0].dropped).toBe(2);
  });

  it("keeps readings taken during a drop and sends them after the reconnect", () => {
    const s = start();
    s.client.connect();
    s.clock.advance(2000);
    s.client.ack();
    s.client.drop();
    s.clock.advance(30_000);
    s.client.connect();
    s.client.ack();
    s.clock.advance(10_000);
    const readings = s.client.json(`${R}/${ID}/reading`);
    expect(readings.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(readings.map((r) => r.up)).toEqual([1032, 10032, 20032, 30032, 40032]);
  });

  it("restores exact timestamps of buffered readings", () => {
    const s = start();
    s.unix.offset = 1_763_000_000_123;
    s.clock.advance(25_000);
    s.client.connect();
    for (const r of s.client.json(`${R}/${ID}/reading`)) expect(r.ts).toBe(1_763_000_000_123 + r.up);
  });
});

describe("app: report-on-change", () => {
  it("publishes only when a quantity moved by its delta", () => {
    const s = start({ config: { tempDelta: 0.5, humDelta: 5 } });
    s.client.connect();
    s.clock.advance(2000); // first reading always
    s.dht.temperature = 21.8;
    s.clock.advance(10_000); // +0.3: no
    s.dht.temperature = 22.0;
    s.clock.advance(10_000); // +0.5 from the last published: yes
    s.dht.humidity = 44;
    s.clock.advance(10_000); // +4 %: no
    s.dht.humidity = 45;
    s.clock.advance(10_000); // +5 %: yes
    const readings = s.client.json(`${R}/${ID}/reading`);
    expect(readings.map((r) => [r.temperature, r.humidity])).toEqual([[21.5, 40], [22, 40], [22, 45]]);
    expect(readings.map((r) => r.seq)).toEqual([0, 1, 2]);
  });

  it("sends a heartbeat when nothing changed for `heartbeat` seconds", () => {
    const s = start({ config: { tempDelta: 1, humDelta: 10, heartbeat: 60 } });
    s.client.connect();
    s.clock.advance(135_000);
    // readings come at 1032, 10032, 20032, ...: the first 60 s after 1032 have passed at 70032
    const ups = s.client.json(`${R}/${ID}/reading`).map((r) => r.up);
    expect(ups).toEqual([1032, 70032, 130032]);
  });

  it("publishes a change of error state", () => {
    const s = start({ config: { tempDelta: 1, humDelta: 10 } });
    s.client.connect();
    s.clock.advance(2000);
    s.dht.fault = "silent";
    s.clock.advance(30_000);
    s.dht.fault = null;
    s.clock.advance(10_000);
    const rs = s.client.json(`${R}/${ID}/reading`);
    expect(rs.map((r) => r.error ?? "ok")).toEqual(["ok", "timeout", "ok"]);
  });
});

describe("app: slow sensor", () => {
  it("skips ticks while a cycle is still retrying: one reading per cycle, never duplicates", () => {
    const s = start({ config: { interval: 2 } });
    s.client.connect();
    s.clock.advance(2000);
    s.client.ack();
    s.dht.fault = "garbled"; // every attempt fails: 3 attempts, 2 s apart, span several 2 s ticks
    s.clock.advance(12_000);
    s.client.ack();
    const rs = s.client.json(`${R}/${ID}/reading`);
    const ups = rs.map((r) => r.up);
    expect(new Set(ups).size).toBe(ups.length);
    expect(rs.slice(1).every((r) => r.error === "checksum")).toBe(true);
    expect(rs.map((r) => r.seq)).toEqual(rs.map((_, i) => i));
  });

  it("a read command during a running cycle gets that cycle's reading, published once", () => {
    const s = start({ config: { interval: 2 } });
    s.client.connect();
    s.clock.advance(2000); // first reading; the next cycle starts at 2000
    s.client.ack();
    s.client.clear();
    s.clock.advance(1); // the 2000 tick's read is waiting for the 2 s gap
    s.client.deliver(`${R}/${ID}/cmd`, JSON.stringify({ id: "r", op: "read" }));
    s.clock.advance(1500);
    const reply = s.client.json(`${R}/${ID}/reply`)[0];
    expect(reply).toMatchObject({ re: "r", ok: true, reading: { seq: 1 } });
    expect(s.client.json(`${R}/${ID}/reading`)).toEqual([reply.reading]);
  });
});
