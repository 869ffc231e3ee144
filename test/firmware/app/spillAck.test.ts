// The spill's read-back against failures (issue 11 review, item 10): a file may go only once the broker acknowledged
// every reading read from it, so a connection drop or a power cut with readings in flight loses none; a torn or
// garbage line in a file is skipped and counted, and the read-back goes on. Fake board, fake clock, and a fake MQTT
// client that, like firmware/mqtt/client.ts, sends its unacknowledged publishes again after a reconnect.
import { describe, expect, it } from "vitest";
import { startApp } from "../../../firmware/app/app";
import { CONFIG_FILE } from "../../../firmware/contract/deviceConfig";
import { validateInfo } from "../../../firmware/contract/payloads";
import { createReadingBuffer } from "../../../firmware/app/readingBuffer";
import { createSpill, SPILL_PREFIX } from "../../../firmware/app/spillFile";
import type { QoS } from "../../../firmware/mqtt/types";
import { strictInfoError } from "../../../host/ingest/infoCheck";
import { FakeMqttClient, Sent } from "./fakeMqttClient";
import { fakeHal, MemoryStore } from "./fakeHal";

type Reading = { boot: number; seq: number; up: number; ts: number | null; temperature?: number };

/** Keeps each QoS 1 publish by its token until acknowledged, and sends the unacknowledged ones again on connect. */
class ResendingClient extends FakeMqttClient {
  private byToken = new Map<number, Sent>();
  /** publishes the broker acknowledged: what it has */
  delivered: Sent[] = [];
  override publish(topic: string, payload: string | Uint8Array, qos: QoS, retain: boolean): number {
    const t = super.publish(topic, payload, qos, retain);
    if (t) this.byToken.set(t, this.sent[this.sent.length - 1]);
    return t;
  }
  override connect(): void {
    this.connected = true;
    for (const t of this.inflight) this.sent.push(this.byToken.get(t)!);
    super.connect();
  }
  override ack(n = this.inflight.length): void {
    for (let i = 0; i < n && this.inflight.length; i++) this.delivered.push(this.byToken.get(this.inflight[0])!), super.ack(1);
  }
  readingsSent(): Reading[] {
    return this.sent.filter((s) => s.topic.endsWith("/reading")).map((s) => JSON.parse(s.payload));
  }
  readingsDelivered(): Reading[] {
    return this.delivered.filter((s) => s.topic.endsWith("/reading")).map((s) => JSON.parse(s.payload));
  }
  /** acknowledges everything until nothing new is sent */
  drain(): void {
    for (let i = 0; i < 10_000; i++) {
      const before = this.sent.length;
      this.ack();
      if (this.sent.length === before && !this.inflight.length) return;
    }
  }
}

/** a board on `storage` with a RAM buffer of 20 readings and the resending client */
function board(storage: MemoryStore) {
  const set = fakeHal({ storage });
  storage.files[CONFIG_FILE] = JSON.stringify({ bufferSize: 20 });
  let client: ResendingClient | null = null;
  const app = startApp(set.hal, (target, options, events) => (client = new ResendingClient(target, options, events)));
  return { ...set, app, client: client! };
}

const spillFiles = (st: MemoryStore) => [...new Set(st.flash.names().filter((n) => n.startsWith(SPILL_PREFIX)).map((n) => n.slice(0, -1)))];
const key = (r: { boot: number; seq: number }) => r.boot + "/" + r.seq;

/**
 * Offline an hour (360 readings: 340 spilled in two files, the first of 208), then connected; PUBACKs one at a time
 * until the first file is read to its end and a reading of the second was handed on: the first file's last
 * readings are then in flight, unacknowledged.
 */
function offlineThenHandOnFirstFile(storage = new MemoryStore()) {
  const a = board(storage);
  a.clock.advance(3600_000);
  expect(spillFiles(storage)).toEqual([SPILL_PREFIX + "1", SPILL_PREFIX + "2"]);
  a.client.connect();
  while (!a.client.readingsSent().some((r) => r.seq === 208)) a.client.ack(1);
  const inFlight = a.client.inflight.length;
  expect(inFlight).toBeGreaterThan(0);
  // the last reading of the first file is among those not yet acknowledged
  expect(a.client.readingsDelivered().some((r) => r.seq === 207)).toBe(false);
  return a;
}

describe("spill read-back: a file goes only once its readings are acknowledged", () => {
  it("handed on but not acknowledged: the file stays; it goes with the PUBACK of its last reading", () => {
    const a = offlineThenHandOnFirstFile();
    expect(spillFiles(a.storage)).toContain(SPILL_PREFIX + "1");
    while (!a.client.readingsDelivered().some((r) => r.seq === 207)) {
      expect(spillFiles(a.storage)).toContain(SPILL_PREFIX + "1");
      a.client.ack(1);
    }
    expect(spillFiles(a.storage)).not.toContain(SPILL_PREFIX + "1");
  });

  it("one publish in flight at a time (the last reading's PUBACK comes before the file is seen to end): every file still goes", () => {
    const a = board(new MemoryStore());
    a.clock.advance(3600_000);
    a.client.maxInflight = 1;
    a.client.connect();
    a.client.drain();
    expect(new Set(a.client.readingsDelivered().map(key)).size).toBe(360);
    expect(spillFiles(a.storage)).toEqual([]);
  });

  it("the connection drops after handing on, before the PUBACKs: after reconnect every reading arrives", () => {
    const a = offlineThenHandOnFirstFile();
    a.client.drop();
    a.clock.advance(60_000);
    a.client.connect();
    a.client.drain();
    const got = new Set(a.client.readingsDelivered().map(key));
    const boot = a.app.boot;
    const taken = 366;
    const missing = [...Array(taken).keys()].filter((s) => !got.has(boot + "/" + s));
    expect(missing).toEqual([]);
    expect(spillFiles(a.storage)).toEqual([]);
  });

  it("the connection drops and the power goes before the PUBACKs: every spilled reading still arrives after the reboot", () => {
    const storage = new MemoryStore();
    const a = offlineThenHandOnFirstFile(storage);
    a.client.drop();
    // spilled: the readings that went to flash (whole blocks of 16) before the power cut
    const spilled = storage.flash.writes * 16;
    const b = board(storage);
    expect(b.app.boot).toBe(a.app.boot + 1);
    b.client.connect();
    b.client.drain();
    const got = new Set([...a.client.readingsDelivered(), ...b.client.readingsDelivered()].map(key));
    const missing = [...Array(spilled).keys()].filter((s) => !got.has(a.app.boot + "/" + s));
    expect(missing).toEqual([]);
    expect(spillFiles(storage)).toEqual([]);
  });
});

describe("spill read-back: unreadable lines are skipped and counted", () => {
  /** valid lines as the spill writes them: `blocks` blocks of 16 readings (boot 3), seq from 0 */
  function validLines(blocks: number): string[] {
    const st = new MemoryStore();
    const spill = createSpill(st, 8640, 3);
    const buffer = createReadingBuffer(16, spill.add_);
    for (let i = 0; i < 16 * (blocks + 1); i++) buffer.push_(1000 + i * 10_000, 1_763_000_000_000 + i * 10_000, 2000 + i, 5000);
    const lines: string[] = [];
    const f = st.open(SPILL_PREFIX + "1", "r");
    let l;
    while ((l = f.readLine()) !== undefined) lines.push(l);
    expect(lines.length).toBe(blocks);
    return lines;
  }
  const readAll = (st: MemoryStore) => {
    const spill = createSpill(st, 8640, 9);
    const out: Reading[] = [];
    let r;
    while ((r = spill.shift_())) out.push(r as Reading);
    return { out, bad: spill.bad_, files: spillFiles(st) };
  };
  const seqs = (from: number, n: number) => [...Array(n).keys()].map((i) => from + i);

  it("truncated, cut short, damaged header and garbage lines: each skipped and counted, the good ones read back", () => {
    const [l0, l1, l2, l3] = validLines(4);
    const st = new MemoryStore();
    const f = st.open(SPILL_PREFIX + "1", "a");
    f.write(l0);
    // base64 cut short (not whole readings), then a header that is not three numbers, then text and binary garbage
    f.write(l1.slice(0, 100) + "\n");
    f.write(l1.replace(/\[\d+,/, "[x,"));
    f.write("hello\n");
    f.write("\x00\x80\x7f3[0,1,2]AAAA\n");
    f.write(l2);
    // a power cut mid-write: the last line has no end
    f.write(l3.slice(0, 57));
    const { out, bad, files } = readAll(st);
    expect(out.map((r) => r.seq)).toEqual([...seqs(0, 16), ...seqs(32, 16)]);
    expect(out.every((r) => r.boot === 3)).toBe(true);
    expect(out[20]).toMatchObject({ seq: 36, up: 1000 + 36 * 10_000, ts: 1_763_000_000_000 + 36 * 10_000, temperature: 20.36 });
    expect(bad).toBe(5);
    expect(files).toEqual([]);
  });

  it("a line filled with 0xFF (a write that never happened) ends that file; the next file is still read", () => {
    const [l0, l1, l2] = validLines(3);
    const st = new MemoryStore();
    st.open(SPILL_PREFIX + "1", "a").write(l0);
    // flash bytes 0xFF after the first line: the first 0xFF ends a StorageFile's data, so l1 behind them is out of reach
    const chunk = st.flash.get(SPILL_PREFIX + "1\x01")!;
    const at = chunk.indexOf(0xff);
    st.flash.writeFile(SPILL_PREFIX + "1\x01", Buffer.concat([Buffer.from(l1.slice(0, 40), "latin1"), Buffer.alloc(60, 0xff), Buffer.from(l1, "latin1")]), at, chunk.length);
    st.open(SPILL_PREFIX + "2", "a").write(l2);
    const { out, bad, files } = readAll(st);
    expect(out.map((r) => r.seq)).toEqual([...seqs(0, 16), ...seqs(32, 16)]);
    expect(bad).toBe(1);
    expect(files).toEqual([]);
  });

  it("a file of binary garbage and one holding only a torn line: no exception, each line counted, both erased", () => {
    const st = new MemoryStore();
    st.open(SPILL_PREFIX + "1", "a").write("\xfe".repeat(300) + "\n" + "\x01\x02".repeat(50));
    st.open(SPILL_PREFIX + "2", "a").write("7[16,1763000000000,9");
    const { out, bad, files } = readAll(st);
    expect(out).toEqual([]);
    expect(bad).toBe(3);
    expect(files).toEqual([]);
  });

  it("info reports flashBad, and the host's strict info check accepts it", () => {
    const [l0] = validLines(1);
    const storage = new MemoryStore();
    storage.open(SPILL_PREFIX + "1", "a").write("garbage\n" + l0);
    const a = board(storage);
    a.client.connect();
    a.client.drain();
    expect(a.client.readingsDelivered().filter((r) => r.boot === 3).map((r) => r.seq)).toEqual(seqs(0, 16));
    // info goes out on connect: the next connect tells
    a.client.drop();
    a.client.connect();
    const infos = a.client.json(`${a.app.config.root}/${a.app.id}/info`);
    const info = infos[infos.length - 1];
    expect(info.flashBad).toBe(1);
    expect(validateInfo(info).ok).toBe(true);
    expect(strictInfoError(info)).toBeNull();
  });
});
