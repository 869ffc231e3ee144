// The publishing part alone: a reading buffer filled by hand, the fake MQTT client, the Device booted on the fake board.
import { describe, expect, it } from "vitest";
import { createPeerLinks } from "../../../firmware/app/peerLinks";
import { createPublishing, readingPayload } from "../../../firmware/app/publishing";
import { createReadingBuffer } from "../../../firmware/app/readingBuffer";
import { createSpill } from "../../../firmware/app/spillFile";
import { validateInfo, validateReading } from "../../../firmware/contract/payloads";
import { FakeMqttClient } from "./fakeMqttClient";
import { bootFake, ID } from "./harness";

const R = "espdht/p";

function publishing(config: object = {}) {
  const s = bootFake(Object.assign({ root: R }, config));
  const spill = createSpill(s.storage, s.device.config.spillLimit, s.device.boot);
  const buffer = createReadingBuffer(s.device.config.bufferSize, s.device.config.spillLimit ? spill.add_ : undefined);
  const client = new FakeMqttClient({ host: "b", port: 1883, tls: false }, { clientId: ID, clean: false, keepalive: 30 }, {});
  const links = createPeerLinks(s.hal, s.device, client);
  const part = createPublishing(s.hal, s.device, buffer, spill, client, () => links);
  /** stores readings as sensing would: temperature 20.00 + i, humidity 50 % */
  const store = (n: number) => { for (let i = 0; i < n; i++) buffer.push_(1000 * (i + 1), 0, 2000 + 100 * i, 5000); };
  return { ...s, buffer, client, part, store };
}

describe("publishing", () => {
  it("announce_: online (retained), the retained info, then the buffered readings oldest first", () => {
    const p = publishing();
    p.store(3);
    p.client.connected = true;
    p.part.announce_();
    expect(p.client.sent.map((m) => [m.topic.slice(R.length + 1), m.qos, m.retain])).toEqual([
      [`${ID}/status`, 1, true],
      [`${ID}/info`, 1, true],
      [`${ID}/reading`, 1, false],
      [`${ID}/reading`, 1, false],
      [`${ID}/reading`, 1, false],
    ]);
    expect(p.client.sent[0].payload).toBe("online");
    expect(validateInfo(p.client.json(`${R}/${ID}/info`)[0])).toMatchObject({ ok: true });
    const readings = p.client.json(`${R}/${ID}/reading`);
    expect(readings.map((r) => r.temperature)).toEqual([20, 21, 22]);
    for (const r of readings) expect(validateReading(r)).toMatchObject({ ok: true, value: { id: ID, boot: 1 } });
  });

  it("announce_ adds retained Home Assistant discovery when enabled", () => {
    const p = publishing({ homeAssistant: true });
    p.client.connected = true;
    p.part.announce_();
    expect(p.client.sent.filter((m) => m.topic.startsWith("homeassistant/")).map((m) => [m.topic, m.retain])).toEqual([
      [`homeassistant/sensor/${ID}_temperature/config`, true],
      [`homeassistant/sensor/${ID}_humidity/config`, true],
    ]);
  });

  it("flush_ sends nothing while offline and no more than the client's in-flight room", () => {
    const p = publishing();
    p.store(5);
    p.part.flush_();
    expect(p.client.sent).toEqual([]);
    p.client.connected = true;
    p.client.maxInflight = 2;
    p.part.flush_();
    expect(p.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([0, 1]);
    p.client.inflight = [];
    p.part.flush_();
    expect(p.client.json(`${R}/${ID}/reading`).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it("info_ reports the readings the buffer dropped, and why the config was rejected", () => {
    const p = publishing({ bufferSize: 2, spillLimit: 0 });
    p.store(5);
    p.part.info_();
    expect(p.client.json(`${R}/${ID}/info`)[0]).toMatchObject({ dropped: 3, configError: null });
    const bad = publishing({ pin: 1.5 });
    bad.part.info_();
    expect(bad.client.sent[0].topic).toBe(`espdht/unconfigured/${ID}/info`);
    expect(JSON.parse(bad.client.sent[0].payload).configError).toBe("espdht.json: invalid pin");
  });

  it("info_ carries dupId once the client saw a kick loop, and validates; absent before", () => {
    const p = publishing();
    p.part.info_();
    expect(p.client.json(`${R}/${ID}/info`)[0]).not.toHaveProperty("dupId");
    p.client.stats.dup_ = { n: 5, at: 1_733_184_000_000 };
    p.part.info_();
    const info = p.client.json(`${R}/${ID}/info`)[1];
    expect(info.dupId).toEqual({ n: 5, at: 1_733_184_000_000 });
    expect(validateInfo(info)).toMatchObject({ ok: true });
    expect(validateInfo({ ...info, dupId: { n: 0, at: 1 } })).toEqual({ ok: false, error: "dupId must be {n, at}: a count > 0 and a time (ms)" });
    expect(validateInfo({ ...info, dupId: 3 })).toMatchObject({ ok: false });
  });

  it("publish_ sends JSON on the device's topic at QoS 1, not retained unless asked", () => {
    const p = publishing();
    p.part.publish_("reply", { re: "x", ok: true });
    p.part.publish_("info", { v: 1 }, true);
    expect(p.client.sent.map((m) => [m.topic, m.payload, m.qos, m.retain])).toEqual([
      [`${R}/${ID}/reply`, '{"re":"x","ok":true}', 1, false],
      [`${R}/${ID}/info`, '{"v":1}', 1, true],
    ]);
  });

  it("readingPayload puts the identity first, in contract order", () => {
    const p = publishing();
    const payload = readingPayload(p.device, { seq: 4, up: 1032, ts: null, temperature: 21.5, humidity: 40 });
    expect(Object.keys(payload)).toEqual(["v", "id", "boot", "seq", "up", "ts", "temperature", "humidity"]);
    expect(payload).toMatchObject({ v: 1, id: ID, boot: 1 });
  });
});
