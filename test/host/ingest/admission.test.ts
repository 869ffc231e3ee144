// The admission of devices never seen before, on an injected clock: a token bucket for new ids, two bounded
// tables (established devices are never evicted or refused; unproven newcomers are), and what proves a device.
import { describe, expect, it } from "vitest";
import { AdmissionBucket } from "../../../host/ingest/admission";
import { FleetState } from "../../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import type { MessageVerifier } from "../../../host/trust/deviceTrust";
import { checkSignature, signJsonText } from "../../../host/trust/signature";

const ROOT = "espdht/test";
const enc = (s: string) => new TextEncoder().encode(s);
const reading = (id: string, seq: number) => JSON.stringify({ v: 1, id, boot: 1, seq, up: seq * 1000, ts: null, temperature: 21, humidity: 50 });

function feedReading(s: FleetState, id: string, seq: number, now: number) {
  return s.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/reading`, enc(reading(id, seq))), now);
}
function feedStatus(s: FleetState, id: string, now: number) {
  return s.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/status`, enc("online")), now, true);
}

describe("AdmissionBucket", () => {
  it("lets a burst through, then the sustained rate on the injected clock", () => {
    const b = new AdmissionBucket({ perSecond: 10, burst: 5 });
    const at0 = Array.from({ length: 8 }, () => b.take(0));
    expect(at0.filter(Boolean)).toHaveLength(5);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(b.take(100)).toBe(false);
    // a long quiet spell refills only up to the burst
    let taken = 0;
    for (let i = 0; i < 20; i++) if (b.take(60_000)) taken++;
    expect(taken).toBe(5);
  });

  it("gains nothing from a clock that steps back", () => {
    const b = new AdmissionBucket({ perSecond: 1, burst: 1 });
    expect(b.take(10_000)).toBe(true);
    expect(b.take(5_000)).toBe(false);
    expect(b.take(10_500)).toBe(false);
    expect(b.take(11_000)).toBe(true);
  });

  it("refuses nonsense settings", () => {
    expect(() => new AdmissionBucket({ perSecond: 0 })).toThrow(/perSecond must be > 0/);
    expect(() => new AdmissionBucket({ burst: 0 })).toThrow(/burst >= 1/);
  });
});

describe("FleetState admission", () => {
  it("never evicts or refuses an established device during a flood of new ids", () => {
    const s = new FleetState({ maxNewcomers: 50, admission: { perSecond: 10, burst: 20 } });
    let now = 1_000;
    feedReading(s, "real-1", 1, now);
    expect(s.isEstablished("real-1")).toBe(true);
    let refused = 0;
    for (let i = 0; i < 5_000; i++) {
      now += 1; // 5,000 new ids in 5 s
      if (feedStatus(s, `junk-${i}`, now).kind === "refused") refused++;
      if (i % 100 === 0) expect(feedReading(s, "real-1", 2 + i / 100, now).kind).toBe("reading");
    }
    const f = s.flood();
    expect(f.newcomers).toBeLessThanOrEqual(50);
    expect(f.established).toBe(1);
    // 20 at once plus 10/s for 5 s
    expect(f.admitted).toBeGreaterThanOrEqual(69);
    expect(f.admitted).toBeLessThanOrEqual(71);
    expect(f.refused).toBe(refused);
    expect(refused).toBe(5_000 - (f.admitted - 1));
    expect(f.evicted).toBe(f.admitted - 1 - 50);
    expect(s.get("real-1")!.readings).toBe(51);
  });

  it("a newcomer becomes established on its first valid reading and then stays", () => {
    const s = new FleetState({ maxNewcomers: 1, admission: { perSecond: 1000, burst: 1000 } });
    feedStatus(s, "new-1", 1);
    expect(s.isEstablished("new-1")).toBe(false);
    feedReading(s, "new-1", 1, 2);
    expect(s.isEstablished("new-1")).toBe(true);
    for (let i = 0; i < 10; i++) feedStatus(s, `other-${i}`, 3 + i);
    expect(s.get("new-1")).toBeDefined();
    expect(s.flood()).toMatchObject({ promoted: 1, established: 1, newcomers: 1, evicted: 9 });
  });

  it("a rejected reading proves nothing", () => {
    const s = new FleetState({ admission: { perSecond: 1000, burst: 1000 } });
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/new-1/reading`, enc("{")), 1);
    expect(s.get("new-1")!.rejected.total).toBe(1);
    expect(s.isEstablished("new-1")).toBe(false);
  });

  it("with a keyring, only a verified reading proves a device; known ids need no token", () => {
    const key = Buffer.alloc(32, 7);
    // the keyring's judge in small: "keyed" must sign with `key`, any other id is unsigned
    const verifier: MessageVerifier = {
      verify: (id, topic, payload) => {
        if (id !== "keyed") return { ok: true, trust: "unsigned", fingerprint: null, body: null };
        const c = checkSignature(key, topic, payload);
        return c.result === "verified" ? { ok: true, trust: "verified", fingerprint: "fp", body: c.body } : { ok: false, reason: c.result };
      },
    };
    const s = new FleetState({ requireVerified: true, isKnown: (id) => id === "keyed", admission: { perSecond: 1, burst: 1 } });
    const topic = (id: string) => `${ROOT}/${id}/reading`;
    // the one token goes to the unsigned stranger, which stays a newcomer
    s.apply(parseDeviceMessage(ROOT, topic("stranger"), enc(reading("stranger", 1)), verifier), 0);
    expect(s.isEstablished("stranger")).toBe(false);
    expect(feedStatus(s, "other", 0).kind).toBe("refused");
    // the keyed device gets in without a token, established at once, and its verified readings count
    const signed = signJsonText(key, topic("keyed"), reading("keyed", 1));
    expect(s.apply(parseDeviceMessage(ROOT, topic("keyed"), enc(signed), verifier), 0).kind).toBe("reading");
    expect(s.isEstablished("keyed")).toBe(true);
  });

  it("ids proven in an earlier run come back without a token, straight into the established table", () => {
    const s = new FleetState({ admission: { perSecond: 1, burst: 1 } });
    s.rememberProven(["old-1", "old-2"]);
    feedStatus(s, "stranger", 0);
    expect(feedStatus(s, "stranger-2", 0).kind).toBe("refused");
    expect(feedStatus(s, "old-1", 0).kind).toBe("status");
    expect(feedStatus(s, "old-2", 0).kind).toBe("status");
    expect(s.isEstablished("old-1") && s.isEstablished("old-2")).toBe(true);
  });

  it("keeps the established table bounded: a proven device past the limit stays a newcomer", () => {
    const s = new FleetState({ maxEstablished: 2, admission: { perSecond: 1000, burst: 1000 } });
    for (const id of ["a", "b", "c"]) feedReading(s, id, 1, 1);
    expect(s.flood()).toMatchObject({ established: 2, newcomers: 1, promoted: 2 });
    expect(s.isEstablished("c")).toBe(false);
  });
});
