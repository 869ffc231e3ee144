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
 * since this board's boot when it arrived, `interval` the source's seconds between readings. */
export interface SourceReading {
  t: number | null;
  h: number | null;
  err?: string | null;
  at: number;
  interval: number;
}

/** The board's peer links once made (firmware/app/peerLinks.ts LinksOf): a linked source's last reading by its id. */
export type PeerReadings = () => { peerReading(id: string): SourceReading | null } | 0;

/** Called with the own sensor's every read (before the report filter), in hundredths as sensing keeps them (NaN: failed);
 * without a reading it checks the rule as its 1 s timer does. */
export interface Thermostat {
  (t?: number, h?: number): void;
  /** publishes the state (at every connect: the retained copy may be older than a change made offline) */
  announce_(): void;
}

// An active rule is checked every second besides at each own reading (the failsafe and minimum times need a clock);
// without a rule only the own readings look for a new one, so a rule set by `set` applies at the next reading.
// The failsafe fires after 3 of the source's intervals without a reading. RAM: every closure variable costs a JsVar
// (two for a fraction or a string) for as long as the board runs, and so does every function (about four), so the
// state is a few numbers and the parsed rule is kept as its numbers (its quantity and its direction are re-read).

/** Publishes through the app's client and publishing (only while connected: a change made offline waits for the
 * connect's announce, it would crowd the client's small offline queue); takes peer readings from `peers`. */
export function createThermostat(hal: Hal, device: Device, client: Pick<DeviceMqttClient, "connected" | "publish">, publishing: Pick<Publishing, "publish_">, peers: PeerReadings): Thermostat {
  /** the own sensor's last read in hundredths (NaN: failed) and when (ms since boot; -1: none yet) */
  let ownT: number;
  let ownH: number;
  let ownAt = -1;
  /** the rule text applied last, and while it is in force its source ("" own sensor), pin, thresholds, minimum times, safe state */
  let text = "";
  let src: string;
  let pin: number;
  let above: number;
  let below: number;
  let minOn: number;
  let minOff: number;
  let safe: number;
  /** the output: 1 on, 0 off (undefined: no rule yet; -1: a rule was removed, the retained output is cleared, again at each connect) */
  let out: number | undefined;
  /** why, since when (ms since boot) and that moment in Unix ms (0: the clock was not set) */
  let why: string;
  let since: number;
  let ts: number;
  let timer: unknown;

  /** switches the output to `next` for `reason` and publishes; with no arguments publishes the state as it is */
  const drive = (next?: number, reason?: string) => {
    if (next != null) {
      if (next !== out) {
        const wall = hal.time_();
        since = uptimeMs(hal.clock_);
        ts = wall > UNIX_2020_S ? Math.round(wall * 1000) : 0;
      }
      out = next;
      why = reason as string;
      hal.digitalWrite(pin, next as 0 | 1);
    }
    if (!client.connected) return;
    if ((out as number) >= 0) publishing.publish_("output", { v: PAYLOAD_VERSION, id: device.id, on: !!out, why: why as OutputWhy, pin, since, ts: ts || null }, true);
    else if ((out as number) < 0) client.publish(device.topic_("output"), "", 1, true);
  };

  /** a reading (t, h) or the timer's tick (no arguments); the timer calls it directly, so none of its locals outlive it */
  const check = ((t?: number, h?: number) => {
    const clock = hal.clock_;
    const config = device.config;
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
        src = r.src;
        pin = r.pin;
        above = r.on;
        below = r.off;
        minOn = r.minOn;
        minOff = r.minOff;
        safe = r.safe;
        out = undefined;
        drive(safe, "boot");
      } else if ((out as number) >= 0) {
        out = -1;
        drive();
      }
    }
    if (!((out as number) >= 0)) return;
    if (!timer) timer = clock.setTimeout(check, 1000);
    const now = clock.now();
    const links = peers();
    const s: SourceReading | null = src ? (links && links.peerReading(src)) || null : ownAt < 0 ? null : { t: ownT / 100, h: ownH / 100, err: isNaN(ownT) ? "failed" : null, at: ownAt, interval: config.interval };
    // before a first reading (or from a peer that gave no interval) the source is judged at this board's interval, silent since boot
    const silent = now - (s ? s.at : 0) > 3000 * ((s && s.interval) || config.interval);
    if (silent || (s && s.err)) {
      if (out != safe || why != "failsafe") drive(safe, "failsafe");
      return;
    }
    if (!s) return;
    // the quantity is the rule's first word; "on above" when the ON threshold is the higher one (the rule checks it)
    const v = (text[0] == "t" ? s.t : s.h) as number;
    const want = above > below ? (v > above ? 1 : v < below ? 0 : out) : v < above ? 1 : v > below ? 0 : out;
    if (want != out) {
      if (now - since >= (out ? minOn : minOff) * 1000) drive(want, "rule");
    } else if (why != "rule") drive(want, "rule");
  }) as Thermostat;

  check.announce_ = drive;
  check();
  device.output_ = () => ((out as number) >= 0 ? { rule: text, on: !!out, why } : undefined);
  return check;
}
