// The thermostat action: one output pin (a relay) switched by the rule in config `rule` (firmware/contract/output.ts)
// from the board's own readings or a linked peer's. Checked every second and at every own reading:
//   source silent for 3 of its intervals, or reporting an error -> the rule's safe state at once ("failsafe")
//   else above/below the thresholds -> on/off ("rule"), held at least minOn/minOff seconds; between them: unchanged.
// The pin starts in the safe state ("boot"). Each change is published retained and signed on `R/D/output`.
import { OutputWhy, parseRule } from "../contract/output";
import { PAYLOAD_VERSION } from "../contract/version";
import { Hal, UNIX_2020_S, uptimeMs } from "../hal/hal";
import type { DeviceMqttClient } from "../mqtt/types";
import type { Device } from "./device";
import type { Publishing } from "./publishing";

/** A source's last reading: values in degrees C and %RH (null or NaN when failed), `err` set when it failed, `at` ms
 * since this board's boot when it arrived, `interval` the source's seconds between readings (0 or none: this board's). */
export interface SourceReading {
  t: number | null;
  h: number | null;
  err?: string | boolean | null;
  at: number;
  interval: number;
}

/** The board's peer links once made (firmware/app/peerLinks.ts LinksOf): each linked source's last reading by its id. */
export type PeerReadings = () => { last_: { [id: string]: SourceReading } } | 0;

/** Called with the own sensor's every read (before the report filter), in hundredths as sensing keeps them (NaN: failed);
 * without a reading it checks the rule as its 1 s timer does. Its state: `device.output_` (`true`: also published). */
export type Thermostat = (t?: number, h?: number) => void;

/** Why the output is in its state, kept as a number (inlined by the build): an index into the names in output_. */
const enum Why {
  Rule,
  Failsafe,
  Boot,
}

// An active rule is checked every second besides at each own reading (the failsafe and minimum times need a clock);
// without a rule only the own readings look for a new one, so a rule set by `set` applies at the next reading.
// The failsafe fires after 3 of the source's intervals without a reading. RAM: every closure variable costs a JsVar
// (two for a fraction or a string) for as long as the board runs, and every function about four more, so the state
// is a few whole numbers, the rule is kept as its numbers (its quantity, source and direction are read again from its
// text and thresholds) and two functions do all the work.

/** Publishes through the app's client and publishing (only while connected: a change made offline waits for the
 * connect's announce, it would crowd the client's small offline queue); takes peer readings from `peers`. */
export function createThermostat(hal: Hal, device: Device, client: Pick<DeviceMqttClient, "connected" | "publish">, publishing: Pick<Publishing, "publish_">, peers: PeerReadings): Thermostat {
  /** the own sensor's last read in hundredths (NaN: failed) and when (ms since boot; -1: none yet) */
  let ownT: number;
  let ownH: number;
  let ownAt = -1;
  /** the rule text applied last, and while it is in force its pin, thresholds, minimum times (s) and safe state */
  let text = "";
  let pin: number;
  let above: number;
  let below: number;
  let minOn: number;
  let minOff: number;
  let safe: number;
  /** the output: 1 on, 0 off (undefined: no rule yet; -1: a rule was removed, the retained output is cleared, again at each connect) */
  let out: number | undefined;
  /** why, since when (ms since boot) and that moment in Unix ms (0: the clock was not set) */
  let why: Why;
  let since: number;
  let ts: number;
  let timer: unknown;

  /** the state for `info` (undefined while no rule is in force); `send`: also published on `R/D/output` (at every
   * connect too: the retained copy may be older than a change made offline) */
  device.output_ = (send) => {
    const state = (out as number) >= 0 ? { rule: text, on: !!out, why: ["rule", "failsafe", "boot"][why] as OutputWhy } : undefined;
    if (send && client.connected) {
      if (state) publishing.publish_("output", { v: PAYLOAD_VERSION, id: device.id, on: state.on, why: state.why, pin, since, ts: ts || null }, true);
      else if ((out as number) < 0) client.publish(device.topic_("output"), "", 1, true);
    }
    return state;
  };

  /** a reading (t, h) or the timer's tick (no arguments); the timer calls it directly, so none of its locals outlive it */
  const check: Thermostat = (t, h) => {
    const clock = hal.clock_;
    const config = device.config;
    let next: number;
    let reason = Why.Boot;
    if (t == null) timer = 0;
    else {
      ownT = t;
      ownH = h as number;
      ownAt = uptimeMs(clock);
    }
    if (config.rule != text) {
      // a new rule (set, or boot): the old pin is released, the new one starts in its safe state
      if ((out as number) >= 0) hal.digitalWrite(pin, 0);
      text = config.rule;
      const r = parseRule(text);
      if (r && typeof r == "object" && r.pin != config.pin) {
        pin = r.pin;
        above = r.on;
        below = r.off;
        minOn = r.minOn;
        minOff = r.minOff;
        next = safe = r.safe;
        out = undefined;
      } else {
        if ((out as number) >= 0) {
          out = -1;
          device.output_!(true);
        }
        return;
      }
    } else {
      if (!((out as number) >= 0)) return;
      if (!timer) timer = clock.setTimeout(check, 1000);
      const now = clock.now();
      // the source: "QUANTITY[@PEER]>..." (the rule was checked when set)
      const src = text.split(/[<>]/)[0].split("@")[1];
      const links = peers();
      const s = src ? links && links.last_[src] : ownAt >= 0 && <SourceReading>{ t: ownT / 100, h: ownH / 100, err: isNaN(ownT), at: ownAt, interval: 0 };
      // before a first reading (or from a peer that gave no interval) the source is judged at this board's interval, silent since boot
      if (now - (s ? s.at : 0) > 3000 * ((s && s.interval) || config.interval) || (s && s.err)) {
        next = safe;
        reason = Why.Failsafe;
      } else {
        if (!s) return;
        const v = (text[0] == "t" ? s.t : s.h) as number;
        // on above ON when ON is the higher threshold, else on below it
        next = above > below ? (v > above ? 1 : v < below ? 0 : (out as number)) : v < above ? 1 : v > below ? 0 : (out as number);
        if (next != out && now - since < (out ? minOn : minOff) * 1000) return;
        reason = Why.Rule;
      }
      if (next == out && reason == why) return;
    }
    if (next !== out) {
      const wall = hal.time_();
      since = uptimeMs(clock);
      ts = wall > UNIX_2020_S ? Math.round(wall * 1000) : 0;
    }
    out = next;
    why = reason;
    hal.digitalWrite(pin, next as 0 | 1);
    device.output_!(true);
    // a new rule judges its source at once
    if (reason == Why.Boot) check(t, h);
  };

  check();
  return check;
}
