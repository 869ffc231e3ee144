// The thermostat action: one output pin (a relay) switched by the rule in config `rule` (firmware/contract/output.ts)
// from the board's own readings or a linked peer's. Checked every second and at every own reading:
//   source silent for 3 of its intervals, or reporting an error -> the rule's safe state at once ("failsafe")
//   else above/below the thresholds -> on/off ("rule"), held at least minOn/minOff seconds; between them: unchanged.
// The pin starts in the safe state ("boot"). Each change is published retained and signed on `R/D/output`.
import { OutputRule, OutputState, OutputWhy, parseRule } from "../contract/output";
import { PAYLOAD_VERSION } from "../contract/version";
import { Hal, TimerHandle, UNIX_2020_S, uptimeMs } from "../hal/hal";
import type { Device } from "./device";

/** A source's last reading: values in degrees C and %RH (null or NaN when failed), `err` set when it failed, `at` ms
 * since this board's boot when it arrived, `interval` the source's seconds between readings. */
export interface SourceReading {
  t: number | null;
  h: number | null;
  err?: string | null;
  at: number;
  interval: number;
}

/** A linked peer's last reading by its device id (firmware/app/peerLinks.ts), or null before the first one. */
export type PeerReadings = (id: string) => SourceReading | null;

export interface Thermostat {
  /** the own sensor's every read (before the report filter), in hundredths as sensing keeps them */
  sensed_(t: number, h: number, error?: string): void;
  /** publishes the state (at every connect: the retained copy may be older than a change made offline) */
  announce_(): void;
}

// An active rule is checked every second besides at each own reading (the failsafe and minimum times need a clock);
// without a rule only the own readings look for a new one, so a rule set by `set` applies at the next reading.
// The failsafe fires after 3 of the source's intervals without a reading. (Literals: a named constant costs JsVars;
// so do objects kept alive: the state is kept in scalars and the payload built when published.)

export function createThermostat(hal: Hal, device: Device, publish: (payload: OutputState | null) => void, peers?: PeerReadings): Thermostat {
  const clock = hal.clock_;
  const config = device.config;
  /** the own sensor's last read: values in degrees C and %RH, its error, when (ms since boot; -1: none yet) */
  let ownT: number;
  let ownH: number;
  let ownErr: string | undefined;
  let ownAt = -1;
  /** the rule text applied last and its parsed rule (null: none or unusable) */
  let text = "";
  let rule: OutputRule | null = null;
  /** the output: on (undefined while there is no rule), why, since when (ms since boot) and that moment in Unix ms (or null) */
  let on: boolean | undefined;
  let why: OutputWhy;
  let since: number;
  let ts: number | null;
  /** a rule was removed: the retained output is cleared (again at each connect) */
  let cleared: boolean | undefined;
  let timer: TimerHandle;

  const announce = () => {
    if (on != null) publish({ v: PAYLOAD_VERSION, id: device.id, on, why, pin: (rule as OutputRule).pin, since, ts });
    else if (cleared) publish(null);
  };

  const drive = (next: boolean, reason: OutputWhy) => {
    if (next !== on) {
      const wall = hal.time_();
      since = uptimeMs(clock);
      ts = wall > UNIX_2020_S ? Math.round(wall * 1000) : null;
    }
    on = next;
    why = reason;
    hal.digitalWrite((rule as OutputRule).pin, next ? 1 : 0);
    announce();
  };

  const check = () => {
    if (config.rule != text) {
      // a new rule (set, or boot): the old pin is released, the new one starts in its safe state
      const had = rule;
      if (had) hal.digitalWrite(had.pin, 0);
      text = config.rule;
      const parsed = parseRule(text);
      rule = parsed && typeof parsed == "object" && parsed.pin != config.pin ? parsed : null;
      on = undefined;
      if (rule) drive(!!rule.safe, "boot");
      else if (had) {
        cleared = true;
        announce();
      }
    }
    const r = rule;
    if (!r || on == null) return;
    if (!timer) timer = clock.setTimeout(() => { timer = 0; check(); }, 1000);
    const now = clock.now();
    const s: SourceReading | null = r.src ? (peers && peers(r.src)) || null : ownAt < 0 ? null : { t: ownT, h: ownH, err: ownErr, at: ownAt, interval: config.interval };
    // before a first reading (or from a peer that gave no interval) the source is judged at this board's interval, silent since boot
    const silent = now - (s ? s.at : 0) > 3000 * ((s && s.interval) || config.interval);
    if (silent || (s && s.err)) {
      if (on != !!r.safe || why != "failsafe") drive(!!r.safe, "failsafe");
      return;
    }
    if (!s) return;
    const v = (r.q == "temperature" ? s.t : s.h) as number;
    const want = r.rise ? (v > r.on ? true : v < r.off ? false : on) : v < r.on ? true : v > r.off ? false : on;
    if (want != on) {
      if (now - since >= (on ? r.minOn : r.minOff) * 1000) drive(want, "rule");
    } else if (why != "rule") drive(want, "rule");
  };

  check();
  device.output_ = () => (on == null ? undefined : { rule: text, on, why });

  return {
    sensed_(t, h, error) {
      ownT = t / 100;
      ownH = h / 100;
      ownErr = error;
      ownAt = clock.now();
      check();
    },
    announce_: announce,
  };
}
