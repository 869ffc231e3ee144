// The thermostat on the fake HAL with its injected clock: hysteresis both ways, minimum on/off times, the failsafe
// (silence for 3 of the source's intervals, errors), a peer source, rule changes. Readings are fed as sensing
// hands them over (hundredths); the relay's level is what the fake HAL saw written to its pin.
import { describe, expect, it } from "vitest";
import { createThermostat, SourceReading } from "../../../firmware/app/thermostat";
import type { OutputState } from "../../../firmware/contract/output";
import { validateOutput } from "../../../firmware/contract/output";
import { bootFake, ID, R, start, Started } from "./harness";

const PIN = 5;

function setup(rule: string, opts: { interval?: number; peers?: (id: string) => SourceReading | null } = {}) {
  const set = bootFake({ interval: opts.interval ?? 10, rule });
  // what reaches R/D/output (null: the retained copy cleared); the peer links exist only when the test has peers
  const published: (OutputState | null)[] = [];
  const client = { connected: true, publish: () => published.push(null) };
  const publishing = { publish_: (kind: string, p: object) => published.push({ ...(p as OutputState) }) };
  const peers = opts.peers;
  // the links' table of last readings, looked up through `peers` so a test sees which source was asked for
  const last_ = new Proxy({} as { [id: string]: SourceReading }, { get: (_t, id) => (peers && peers(String(id))) || undefined });
  const t = createThermostat(set.hal, set.device, client, publishing, () => (peers ? { last_ } : 0));
  // a failed read reaches the thermostat as NaN values (sensing's hundredths of nothing)
  const sense = (temperature: number, humidity = 50) => t(Math.round(temperature * 100), Math.round(humidity * 100));
  const level = () => set.dht.level(PIN);
  const last = () => published[published.length - 1];
  return { ...set, t, published, sense, level, last };
}

describe("thermostat: hysteresis", () => {
  it("on above ON, off below OFF, unchanged between them (a fan)", () => {
    const b = setup("temperature>24<23:pin=5");
    // the pin starts in the safe state (off by default)
    expect(b.level()).toBe(0);
    expect(b.last()).toMatchObject({ on: false, why: "boot", pin: PIN, since: 0 });
    const seen: number[] = [];
    for (const temperature of [22, 23.5, 24, 24.5, 23.5, 23, 22.9, 23.5, 24.1]) {
      b.clock.advance(10_000);
      b.sense(temperature);
      seen.push(b.level()!);
    }
    expect(seen).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 1]);
    expect(b.last()).toMatchObject({ on: true, why: "rule", since: 90_000 });
  });

  it("the inverse: on below ON, off above OFF (a heater)", () => {
    const b = setup("temperature<20>21:pin=5");
    const seen: number[] = [];
    for (const temperature of [20.5, 19.9, 20.5, 21, 21.1, 20.5, 20, 19.5]) {
      b.clock.advance(10_000);
      b.sense(temperature);
      seen.push(b.level()!);
    }
    expect(seen).toEqual([0, 1, 1, 1, 0, 0, 0, 1]);
  });

  it("on humidity (a humidifier: on below 40 %, off above 45 %)", () => {
    const b = setup("humidity<40>45:pin=5");
    const seen: number[] = [];
    for (const humidity of [50, 39, 42, 46, 44]) {
      b.clock.advance(10_000);
      b.sense(30, humidity);
      seen.push(b.level()!);
    }
    expect(seen).toEqual([0, 1, 1, 0, 0]);
  });

  it("publishes each switch once, and the reason turning from boot to rule without a switch", () => {
    const b = setup("temperature>24<23:pin=5");
    b.clock.advance(10_000);
    b.sense(22);
    b.clock.advance(10_000);
    b.sense(22.5);
    b.clock.advance(10_000);
    b.sense(25);
    expect(b.published.map((p) => p && [p.on, p.why, p.since])).toEqual([[false, "boot", 0], [false, "rule", 0], [true, "rule", 30_000]]);
  });
});

describe("thermostat: minimum times", () => {
  it("holds off for minOff and on for minOn, then switches at the next check", () => {
    const b = setup("temperature>24<23:pin=5:minOn=60:minOff=30");
    b.clock.advance(10_000);
    b.sense(25);
    // off since boot (0 s): 10 s < minOff 30 s
    expect(b.level()).toBe(0);
    b.clock.advance(19_000);
    expect(b.level()).toBe(0);
    // the 1 s check switches it once 30 s have passed
    b.clock.advance(1_000);
    expect(b.level()).toBe(1);
    const onAt = b.last()!.since;
    expect(onAt).toBe(30_000);
    // cool readings every 10 s: held on until 60 s after it switched on
    for (let i = 0; i < 6; i++) {
      b.sense(22);
      expect(b.level()).toBe(1);
      b.clock.advance(i < 5 ? 10_000 : 9_000);
    }
    expect(b.level()).toBe(1);
    b.clock.advance(1_000);
    expect(b.level()).toBe(0);
    expect(b.last()).toMatchObject({ on: false, why: "rule", since: onAt + 60_000 });
  });

  it("a swing back within the minimum time is never seen on the pin", () => {
    const b = setup("temperature>24<23:pin=5:minOff=60");
    for (let i = 0; i < 5; i++) {
      b.clock.advance(5_000);
      b.sense(i % 2 ? 25 : 22);
    }
    expect(b.dht.outputs.filter((o) => o.pin === PIN).every((o) => o.level === 0)).toBe(true);
  });
});

describe("thermostat: failsafe", () => {
  it("silence for 3 of the source's intervals -> the safe state at once, ignoring minimum times", () => {
    const b = setup("temperature<20>21:pin=5:minOn=600:safe=off", { interval: 10 });
    b.clock.advance(10_000);
    b.sense(18);
    expect(b.level()).toBe(1);
    // the sensor stops answering in readings at all (no cycle reaches the thermostat)
    b.clock.advance(30_000);
    expect(b.level()).toBe(1);
    b.clock.advance(1_000);
    expect(b.level()).toBe(0);
    expect(b.last()).toMatchObject({ on: false, why: "failsafe", since: 41_000 });
    // the source comes back: the rule takes over again (minOff 0)
    b.sense(18);
    expect(b.level()).toBe(1);
    expect(b.last()).toMatchObject({ on: true, why: "rule" });
  });

  it("a failed read -> the safe state (on here), and the reason changes even when the state does not", () => {
    const b = setup("temperature>24<23:pin=5:safe=on");
    expect(b.level()).toBe(1);
    b.clock.advance(10_000);
    b.sense(25);
    expect(b.last()).toMatchObject({ on: true, why: "rule" });
    b.clock.advance(10_000);
    b.sense(NaN, NaN);
    expect(b.last()).toMatchObject({ on: true, why: "failsafe", since: 0 });
    b.clock.advance(10_000);
    b.sense(22);
    expect(b.level()).toBe(0);
    b.clock.advance(10_000);
    b.sense(NaN, NaN);
    expect(b.level()).toBe(1);
    expect(b.last()).toMatchObject({ on: true, why: "failsafe", since: 40_000 });
  });

  it("no reading at all since boot: failsafe after 3 intervals", () => {
    const b = setup("temperature>24<23:pin=5:safe=on", { interval: 20 });
    b.clock.advance(60_000);
    expect(b.last()).toMatchObject({ why: "boot" });
    b.clock.advance(1_000);
    expect(b.last()).toMatchObject({ on: true, why: "failsafe" });
  });
});

describe("thermostat: a linked peer as the source", () => {
  it("follows the peer's reading and judges its silence by the peer's interval", () => {
    let peer: SourceReading | null = null;
    const asked: string[] = [];
    const b = setup("temperature@esp32-aabbccddeeff>24<23:pin=5", {
      interval: 10,
      peers: (id) => (asked.push(id), peer),
    });
    // the own sensor does not count
    b.clock.advance(5_000);
    b.sense(30);
    expect(b.level()).toBe(0);
    expect(asked[0]).toBe("esp32-aabbccddeeff");
    peer = { t: 25, h: 40, err: null, at: b.clock.now(), interval: 60 };
    b.clock.advance(1_000);
    expect(b.level()).toBe(1);
    // 3 x 60 s of the peer's interval, not this board's 10 s
    b.clock.advance(179_000);
    expect(b.level()).toBe(1);
    b.clock.advance(1_000);
    expect(b.level()).toBe(0);
    expect(b.last()).toMatchObject({ why: "failsafe" });
    peer = { t: null, h: null, err: "timeout", at: b.clock.now(), interval: 60 };
    b.clock.advance(1_000);
    expect(b.last()).toMatchObject({ on: false, why: "failsafe" });
  });

  it("a peer reading without an interval is judged by this board's interval (never 'not silent' forever)", () => {
    let peer: SourceReading | null = null;
    const b = setup("temperature@esp32-aabbccddeeff>24<23:pin=5", { interval: 10, peers: () => peer });
    peer = { t: 25, h: 40, err: null, at: 0, interval: undefined as unknown as number };
    b.clock.advance(1_000);
    expect(b.level()).toBe(1);
    b.clock.advance(30_000);
    expect(b.last()).toMatchObject({ on: false, why: "failsafe" });
  });

  it("without peer links (no interface yet) a peer rule fails safe after 3 of this board's intervals", () => {
    const b = setup("temperature@esp32-aabbccddeeff>24<23:pin=5:safe=on", { interval: 10 });
    b.clock.advance(31_000);
    expect(b.last()).toMatchObject({ on: true, why: "failsafe" });
  });
});

describe("thermostat: rule changes", () => {
  it("a new rule takes effect at the next reading: the old pin released, the new one in its safe state", () => {
    const b = setup("temperature>24<23:pin=5");
    b.clock.advance(10_000);
    b.sense(25);
    expect(b.level()).toBe(1);
    b.device.config.rule = "temperature>30<29:pin=18:safe=on";
    b.clock.advance(10_000);
    b.sense(25);
    expect(b.level()).toBe(0);
    expect(b.dht.level(18)).toBe(0);
    expect(b.last()).toMatchObject({ pin: 18, on: false, why: "rule" });
    b.device.config.rule = "";
    b.sense(25);
    expect(b.dht.level(18)).toBe(0);
    // the retained output is cleared, and again at each connect
    expect(b.last()).toBeNull();
    expect(b.device.output_!()).toBeUndefined();
    b.device.output_!(true);
    expect(b.last()).toBeNull();
    // no rule: no timer keeps running (sensing is not started here: the thermostat's would be the only one)
    b.clock.advance(5_000);
    expect(b.clock.pending).toBe(0);
  });

  it("no rule: nothing is driven or published", () => {
    const b = setup("");
    b.sense(25);
    b.device.output_!(true);
    expect(b.published).toEqual([]);
    expect(b.dht.outputs).toEqual([]);
  });

  it("a rule on the DHT's own data pin is never driven", () => {
    const b = setup("temperature>24<23:pin=4");
    b.sense(25);
    expect(b.dht.outputs).toEqual([]);
    expect(b.device.output_!()).toBeUndefined();
  });
});

describe("thermostat in the app: set rule, R/D/output, info", () => {
  const CMD = `${R}/${ID}/cmd`;
  const OUTPUT = `${R}/${ID}/output`;
  function online(config: object = {}): Started {
    const s = start({ config: { interval: 2, ...config } });
    s.client.connect();
    s.clock.advance(2000);
    s.client.ack();
    return s;
  }
  const replies = (s: Started) => s.client.json(`${R}/${ID}/reply`);

  it("a rule set by command drives the pin from the next reading, is published retained and listed in info", () => {
    const s = online();
    s.dht.temperature = 25;
    s.client.deliver(CMD, JSON.stringify({ id: "r1", op: "set", rule: "temperature>24<23:pin=5" }));
    expect(replies(s).at(-1)).toMatchObject({ re: "r1", ok: true, settings: { rule: "temperature>24<23:pin=5" } });
    s.clock.advance(2000);
    expect(s.dht.level(5)).toBe(1);
    const out = s.client.on(OUTPUT);
    expect(out.at(-1)).toMatchObject({ qos: 1, retain: true });
    expect(JSON.parse(out.at(-1)!.payload)).toMatchObject({ v: 1, id: ID, on: true, why: "rule", pin: 5 });
    expect(validateOutput(JSON.parse(out.at(-1)!.payload)).ok).toBe(true);
    // info (at the next connect) carries the rule in effect and the state
    s.client.clear();
    s.client.drop();
    s.client.connect();
    expect(s.client.json(`${R}/${ID}/info`)[0].output).toEqual({ rule: "temperature>24<23:pin=5", on: true, why: "rule" });
    expect(JSON.parse(s.client.on(OUTPUT)[0].payload)).toMatchObject({ on: true, why: "rule" });
    // removed: the pin released, the retained output cleared
    s.client.deliver(CMD, JSON.stringify({ id: "r2", op: "set", rule: "" }));
    s.clock.advance(2000);
    expect(s.dht.level(5)).toBe(0);
    expect(s.client.on(OUTPUT).at(-1)).toMatchObject({ payload: "", retain: true });
  });

  it.each([
    [{ rule: "temperature>24<23:pin=4" }, "rule: pin=4 is the DHT's data pin"],
    [{ rule: "temperature>23<24:pin=5" }, "rule: 'temperature>23<24' must be QUANTITY>ON<OFF"],
    [{ rule: "pressure>24<23:pin=5" }, "rule: 'pressure' must be temperature or humidity"],
    [{ rule: "temperature>24<23:pin=40" }, "rule: 'pin=40' must be pin=GPIO"],
    [{ rule: "temperature>24<23:pin=5:minOff=-1" }, "rule: 'minOff=-1' must be pin=GPIO"],
    [{ rule: 24 }, "rule must be a string"],
  ])("set refuses %j with an error naming the part, and nothing is driven", (fields, error) => {
    const s = online();
    s.client.deliver(CMD, JSON.stringify({ id: "bad", op: "set", ...fields }));
    expect(replies(s).at(-1)).toMatchObject({ re: "bad", ok: false, error: expect.stringContaining(error) });
    s.clock.advance(4000);
    expect(s.dht.outputs).toEqual([]);
    expect(s.app.config.rule).toBe("");
  });

  it("a rule in the stored settings applies at boot: the pin starts in its safe state", () => {
    const s = start({ config: { interval: 2, rule: "humidity<40>45:pin=18:safe=on" } });
    expect(s.dht.level(18)).toBe(1);
  });
});
