// The health topic read by watch: anything on the broker can arrive there, so every field is checked, texts are made
// safe for a terminal, the table of hosts is bounded, and a failing consumer is reported, never thrown.
import { describe, expect, it } from "vitest";
import {
  deliverHostHealth, HostHealth, HostHealthBoard, HostHealthMessage, hostHealthLine, hostOfHealthTopic, parseHostHealth, readHostHealth,
} from "../../../host/ingest/hostHealth";

const R = "espdht/h";
const HOST = "host-0123456789ab";
const AT = Date.UTC(2026, 11, 3, 1, 0, 0);
const good: HostHealth = { ok: false, problem: "the disk is full", since: AT - 60_000, journalBytes: 2048, journalLimitBytes: 67108864, holding: true, at: AT };
const bytes = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v));
const withField = (k: string, v: unknown) => bytes({ ...good, [k]: v });
const without = (k: string) => bytes(Object.fromEntries(Object.entries(good).filter(([key]) => key !== k)));

describe("readHostHealth", () => {
  it("takes a health as the dashboard publishes it, and an OK one", () => {
    expect(readHostHealth(HOST, bytes(good))).toEqual({ kind: "health", host: HOST, health: good });
    const ok = { ...good, ok: true, problem: null, since: null, holding: false };
    expect(readHostHealth(HOST, bytes(ok))).toEqual({ kind: "health", host: HOST, health: ok });
  });

  it("an empty payload is a clear", () => expect(readHostHealth(HOST, new Uint8Array())).toEqual({ kind: "cleared", host: HOST }));

  it("keeps only the known fields", () => {
    const m = readHostHealth(HOST, withField("extra", "x".repeat(100)));
    expect(m.kind === "health" && Object.keys(m.health).sort()).toEqual(Object.keys(good).sort());
  });

  // each kind names what was wrong; none throws
  const malformed: [string, Uint8Array, RegExp][] = [
    ["not JSON", bytes("{ok:"), /not JSON/],
    ["JSON but an array", bytes([good]), /not a JSON object/],
    ["JSON null", bytes("null"), /not a JSON object/],
    ["a number", bytes("42"), /not a JSON object/],
    ["over 4096 bytes", withField("pad", "x".repeat(5000)), /over 4096 bytes/],
    ["ok missing", without("ok"), /'ok'/],
    ["ok a string", withField("ok", "false"), /'ok'/],
    ["at missing", without("at"), /'at'/],
    ["at a string", withField("at", String(AT)), /'at'/],
    ["at NaN (as null)", withField("at", null), /'at'/],
    ["at fractional", withField("at", AT + 0.5), /'at'/],
    ["at in 1970", withField("at", 5), /'at'/],
    ["since past the Date range (RangeError in watch before)", withField("since", 1e20), /'since'/],
    ["since negative", withField("since", -1), /'since'/],
    ["since a string", withField("since", "yesterday"), /'since'/],
    ["since missing (undefined)", without("since"), /'since'/],
    ["since after at", withField("since", AT + 1000), /'since' is after 'at'/],
    ["problem a number", withField("problem", 7), /'problem'/],
    ["problem an object", withField("problem", { x: 1 }), /'problem'/],
    ["problem too long", withField("problem", "p".repeat(301)), /longer than 300/],
    ["problem empty while not ok", withField("problem", "  "), /says nothing/],
    ["ok with a problem", bytes({ ...good, ok: true }), /'ok' is true but/],
    ["journalBytes negative", withField("journalBytes", -5), /'journalBytes'/],
    ["journalBytes huge", withField("journalBytes", 2 ** 60), /'journalBytes'/],
    ["journalLimitBytes a string", withField("journalLimitBytes", "64 MB"), /'journalLimitBytes'/],
    ["holding missing", without("holding"), /'holding'/],
    ["holding 1", withField("holding", 1), /'holding'/],
  ];
  it.each(malformed)("refuses %s with a reason", (_name, payload, reason) => {
    const m = readHostHealth(HOST, payload);
    expect(m.kind).toBe("malformed");
    expect(m.kind === "malformed" && m.problem).toMatch(reason);
    expect(parseHostHealth(payload)).toBeNull();
  });

  it("strips control and direction characters from the problem (a terminal would obey them)", () => {
    const m = readHostHealth(HOST, withField("problem", "disk\u001b[2J\u001b]0;pwned\u0007 full\r\nnext\u202eline\u009b"));
    expect(m.kind).toBe("health");
    const p = m.kind === "health" ? m.health.problem! : "";
    expect(p).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(p).toBe("disk [2J ]0;pwned  full next line ");
  });
});

describe("hostOfHealthTopic", () => {
  it.each([
    [`${R}/${HOST}/health`, HOST],
    [`${R}/espdht-dash-0123456789ab/health`, null], // a client id: older versions published it, which gave it away
    [`${R}/host-0123/health`, null],
    [`${R}/HOST-0123456789AB/health`, null],
    [`${R}/${HOST}/x/health`, null],
    [`other/${HOST}/health`, null],
  ])("%s -> %s", (topic, host) => expect(hostOfHealthTopic(R, topic)).toBe(host));
});

describe("deliverHostHealth", () => {
  it("reports a consumer that throws and goes on with the next message", () => {
    const logs: string[] = [];
    const got: HostHealthMessage[] = [];
    let calls = 0;
    const consumer = (m: HostHealthMessage) => {
      if (calls++ === 0) throw new RangeError("Invalid time value");
      got.push(m);
    };
    deliverHostHealth(R, `${R}/${HOST}/health`, bytes(good), consumer, (l) => logs.push(l));
    deliverHostHealth(R, `${R}/${HOST}/health`, bytes(good), consumer, (l) => logs.push(l));
    expect(logs).toEqual([`espdht: the health message on ${R}/${HOST}/health could not be shown: Invalid time value`]);
    expect(got).toHaveLength(1);
  });

  it("a topic without a host id is malformed, quoted without its control characters", () => {
    const got: HostHealthMessage[] = [];
    deliverHostHealth(R, `${R}/evil\u001b[31m/health`, bytes(good), (m) => got.push(m), () => {});
    expect(got).toEqual([{ kind: "malformed", host: null, problem: `'${R}/evil [31m/health' names no host id (host-<12 hex>)` }]);
  });
});

describe("HostHealthBoard", () => {
  it("keeps at most its capacity, forgetting the least recently heard from", () => {
    const board = new HostHealthBoard(64);
    const host = (i: number) => "host-" + i.toString(16).padStart(12, "0");
    for (let i = 0; i < 10_000; i++) board.offer({ kind: "health", host: host(i), health: good }, AT);
    expect(board.size).toBe(64);
    expect(board.get(host(9999))).toBeDefined();
    expect(board.get(host(0))).toBeUndefined();
    // heard from again: it moves to the front and survives the next 63 newcomers
    board.offer({ kind: "health", host: host(9936), health: good }, AT);
    for (let i = 10_000; i < 10_063; i++) board.offer({ kind: "health", host: host(i), health: good }, AT);
    expect(board.get(host(9936))).toBeDefined();
    expect(board.get(host(9937))).toBeUndefined();
    const lines = board.lines(AT);
    expect(lines).toHaveLength(9); // 8 shown, then how many more
    expect(lines[8]).toBe("(56 more dashboards report their health)");
  });

  it("logs a line when a host's state changes, not on each republish; a shown host's latest state always gets out", () => {
    const board = new HostHealthBoard();
    expect(board.offer({ kind: "health", host: HOST, health: good }, AT)).toMatch(/store failing since/);
    expect(board.offer({ kind: "health", host: HOST, health: { ...good, journalBytes: 4096, at: AT + 1 } }, AT + 1)).toBeNull();
    // flapping within a second: held, and the latest state follows at the next flush
    expect(board.offer({ kind: "health", host: HOST, health: { ...good, holding: false } }, AT + 2)).toBeNull();
    expect(board.offer({ kind: "health", host: HOST, health: { ...good, ok: true, problem: null, since: null, holding: false } }, AT + 3)).toBeNull();
    expect(board.flush(AT + 500)).toEqual([]);
    expect(board.flush(AT + 1000)).toEqual([expect.stringMatching(/store OK/)]);
    expect(board.flush(AT + 3000)).toEqual([]);
  });

  it("new hosts get at most 10 lines per 10 s, the rest counted; a shown host is not held back by them", () => {
    const board = new HostHealthBoard();
    expect(board.offer({ kind: "health", host: HOST, health: good }, AT)).not.toBeNull();
    const host = (i: number) => "host-" + (0x1000 + i).toString(16).padStart(12, "0");
    const logged = Array.from({ length: 50 }, (_, i) => board.offer({ kind: "health", host: host(i), health: good }, AT + 3)).filter((l) => l !== null);
    expect(logged).toHaveLength(9); // HOST was the first of the 10
    expect(board.offer({ kind: "health", host: HOST, health: { ...good, ok: true, problem: null, since: null, holding: false } }, AT + 2000)).toMatch(/store OK/);
    expect(board.flush(AT + 2000)).toEqual(["41 more dashboard healths not shown (too many new hosts at once)"]);
    expect(board.offer({ kind: "health", host: host(99), health: good }, AT + 10_004)).toMatch(/store failing since/);
  });

  it("a failure held back by the rate limit is told even when the host recovered or stopped meanwhile", () => {
    const ok = { ...good, ok: true, problem: null, since: null, holding: false };
    const board = new HostHealthBoard();
    expect(board.offer({ kind: "health", host: HOST, health: ok }, AT)).toMatch(/store OK/);
    expect(board.offer({ kind: "health", host: HOST, health: good }, AT + 100)).toBeNull();
    expect(board.offer({ kind: "health", host: HOST, health: { ...ok, journalBytes: 4096 } }, AT + 900)).toBeNull();
    expect(board.flush(AT + 1000)).toEqual([
      `dashboard ${HOST}: store failing since 2026-12-03T00:59:00.000Z, readings held unacknowledged: the disk is full (reported 1 s ago); since then: store OK (journal 4 KB)`,
    ]);
    // failing, then the dashboard stops cleanly (its clear) before the failure's turn came
    expect(board.offer({ kind: "health", host: HOST, health: good }, AT + 1100)).toBeNull();
    expect(board.offer({ kind: "cleared", host: HOST }, AT + 1200)).toMatch(/store failing since .*the disk is full.*; the dashboard has stopped since$/);
    expect(board.size).toBe(0);
    expect(board.flush(AT + 5000)).toEqual([]);
  });

  it("a clear removes the host", () => {
    const board = new HostHealthBoard();
    board.offer({ kind: "health", host: HOST, health: good }, AT);
    expect(board.offer({ kind: "cleared", host: HOST }, AT)).toBeNull();
    expect(board.size).toBe(0);
  });

  it("reports malformed messages at once, then at most every 10 s with their count", () => {
    const board = new HostHealthBoard();
    const bad = (n: number): HostHealthMessage => ({ kind: "malformed", host: HOST, problem: `bad ${n}` });
    expect(board.offer(bad(1), AT)).toBe(`ignored 1 malformed health message (last: ${HOST}: bad 1)`);
    for (let i = 2; i <= 500; i++) expect(board.offer(bad(i), AT + i)).toBeNull();
    expect(board.report(AT + 5000)).toBeNull();
    expect(board.report(AT + 10_000)).toBe(`ignored 499 malformed health messages (last: ${HOST}: bad 500)`);
    expect(board.report(AT + 30_000)).toBeNull();
    expect(board.lines(AT)).toEqual([`malformed health messages ignored: 500 (last: ${HOST}: bad 500)`]);
  });
});

describe("hostHealthLine", () => {
  it("says since when and that readings are held", () => {
    expect(hostHealthLine(HOST, good, AT + 5000)).toBe(`dashboard ${HOST}: store failing since 2026-12-03T00:59:00.000Z, readings held unacknowledged: the disk is full (reported 5 s ago)`);
  });
});
