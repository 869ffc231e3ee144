// Commands from R/D/cmd, R/all/cmd and R/group/<name>/cmd for each of the device's groups (docs/trust.md "Signed commands" and "Command safety"), in this order:
//   retained: ignored, logged and counted | a copy for another device (`to`): dropped unanswered |
//   over the rate limit: "rate limited" | with a key: unsigned, bad signature, replayed `n`, expired: refused |
//   then validated with the contract and carried out.
// Answers go to R/D/reply with `re` = the command's id and never echo its other fields.
import { KEY_FILE, SETTINGS_FILE } from "../contract/deviceConfig";
import { OutputRule, parseRule } from "../contract/output";
import { Capability, Command, validateCommand, Validation } from "../contract/payloads";
import { deviceTopicPrefix, GROUP_SEGMENT } from "../contract/topics";
import { fromHex, rekeyKeystream, RESTART_GRACE_S, sameSignature, SIG_FIELD, SIG_TAIL_LENGTH, signatureTail, toHex, xorBytes } from "../contract/trust";
import { Hal, UNIX_2020_S, uptimeMs } from "../hal/hal";
import type { DeviceMqttClient, IncomingMessage } from "../mqtt/types";
import { utf8Decode } from "../mqtt/utf8";
import type { Device } from "./device";
import type { LinksOf, PeerLinks } from "./peerLinks";
import { brokerTarget } from "./link";
import { Publishing, readingPayload } from "./publishing";
import type { Sensing } from "./sensing";
import { readJsonSafely, settingsOf } from "./storedConfig";

/** A reply's fields besides `re`; `ok` is false when they carry an `error`. */
export type ReplyFields = { error?: string; [k: string]: unknown };

/** One handler per op; `done` gets the reply's fields. */
export type CommandHandlers = { [op in Capability]: (c: Command, done: (fields: ReplyFields) => void) => void };

/** Storage file remembering the last `restart` command, so a redelivered one cannot restart the board again. */
export const RESTART_FILE = "espdht.rst";
/** Storage file holding the highest `n` of an accepted signed command: a replay is refused after a restart too. */
export const COUNTER_FILE = "espdht.n";
/** The rate limit, a token bucket: a burst of BURST commands, then one per REFILL_MS. */
export const BURST = 5;
export const REFILL_MS = 2000;

/**
 * Subscribes to the device's, `all`'s and its named groups' command topics and returns what takes each incoming message:
 * `read` and `set` act through sensing and publishing, `restart` reboots a second after its reply, `rekey`
 * installs the new key (the reply is already signed with it).
 */
export function listenForCommands(hal: Hal, device: Device, client: DeviceMqttClient, sensing: Sensing, publishing: Publishing, links: LinksOf): (msg: IncomingMessage) => void {
  const config = device.config;
  const storage = hal.storage_;
  const clock = hal.clock_;
  const counts = device.counts_;
  let tokens = BURST;
  let refilledAt = 0;
  let lastN = +(readJsonSafely(storage, COUNTER_FILE) as number) || 0;
  // the command topics: the device's, `all`'s and its named groups' (groupCommandTopic's and namedGroupTopic's, composed
  // here: each function kept in the bundle costs JsVars for good); made when needed, as a kept topic costs JsVars too
  const topics = () => [device.topic_("cmd"), deviceTopicPrefix(config.root, GROUP_SEGMENT) + "cmd"].concat(config.groups.map((g) => deviceTopicPrefix(config.root, "group") + g + "/cmd"));
  // moves the subscriptions from the topics `before` to today's (`set groups`)
  const follow = (before: string[]) => {
    const now = topics();
    before.forEach((t) => now.indexOf(t) < 0 && client.unsubscribe(t));
    now.forEach((t) => before.indexOf(t) < 0 && client.subscribe(t, 1));
  };
  // built for each command, not kept: the handlers held for good cost the board ~20 JsVars (measured)
  const handlers = (): CommandHandlers => {
    // the retained info lists the links: watch and the dashboard see a change at once
    const relink = (c: Command, done: (fields: ReplyFields) => void) => {
      done((links(true) as PeerLinks).command_(c));
      publishing.info_();
    };
    return {
      read: (c, done) => sensing.readNow_((stored) => done({ reading: readingPayload(device, stored) })),
      set: (c, done) => {
        const next = c.set as { [k: string]: number };
        const rule = next.rule && (parseRule(next.rule) as OutputRule);
        if (rule && rule.pin == config.pin) return done({ error: "rule: pin=" + rule.pin + " is the DHT's data pin" });
        const before = topics();
        let changed: boolean | undefined;
        // JSON compares the groups list by value
        for (const k in next) if (JSON.stringify((config as unknown as { [k: string]: unknown })[k]) != JSON.stringify(next[k])) changed = true;
        Object.assign(config, next);
        const settings = settingsOf(config);
        // flash wears: written only when a value really changes
        if (changed) {
          storage.writeJSON(SETTINGS_FILE, settings);
          sensing.reschedule_();
          follow(before);
          publishing.info_();
        }
        done({ settings });
      },
      // the effective config without secrets
      get: (c, done) => done({ config: Object.assign({}, config, { broker: brokerTarget(config), wifi: config.wifi && config.wifi.ssid, key: undefined }) }),
      ping: (c, done) => done({ up: uptimeMs(clock) }),
      restart: (c, done) => {
        // a redelivered restart cannot loop the board
        if (uptimeMs(clock) < RESTART_GRACE_S * 1000) return done({ error: "too soon after boot" });
        done({});
        if (readJsonSafely(storage, RESTART_FILE) === c.id) return;
        storage.writeJSON(RESTART_FILE, c.id);
        clock.setTimeout(hal.reboot_, 1000);
      },
      rekey: (c, done) => {
        const key = device.key_;
        if (!key) return done({ error: "no key to rotate" });
        const next = xorBytes(fromHex(c.key) as Uint8Array, rekeyKeystream(hal.sha256_, key, c.nonce as string));
        storage.writeJSON(KEY_FILE, { from: config.key, key: toHex(next) });
        device.key_ = next;
        done({});
      },
      link: relink,
      unlink: relink,
    };
  };
  follow([]);
  return (msg) => {
    const topic = msg.topic;
    if (topics().indexOf(topic) < 0) return;
    if (msg.retain) {
      counts.retainedCmds++;
      return hal.log_("retained cmd ignored");
    }
    const text = utf8Decode(msg.payload);
    // the parsed command, or 0: its fields read as undefined
    let x: any = 0;
    let v: Validation<Command> & { id?: string };
    try {
      // "" is not JSON either: null (bad UTF-8) fails here too, and is told apart below
      v = validateCommand((x = JSON.parse(text || "") || 0));
    } catch (e) {
      v = { ok: false, error: "command is not valid " + (text === null ? "UTF-8" : "JSON") };
    }
    if (x.to != null && x.to !== device.id) return;
    const answer = (fields: ReplyFields) => publishing.publish_("reply", Object.assign({ re: v.ok ? v.value.id : v.id || null, ok: !fields.error }, fields));
    const now = clock.now();
    tokens = Math.min(BURST, tokens + (now - refilledAt) / REFILL_MS);
    refilledAt = now;
    let error: string | null | undefined;
    if (tokens < 1) {
      counts.rateLimited++;
      error = "rate limited";
    } else {
      tokens--;
      if (device.key_) {
        // the last 42 bytes are the tail (ASCII: as many chars in `text`); what precedes it is signed
        const tail = (text || "").slice(-SIG_TAIL_LENGTH);
        const wall = hal.time_();
        error = tail.indexOf(SIG_FIELD)
          ? "unsigned"
          : !sameSignature(tail, signatureTail(device.mac_(topic, (text as string).slice(0, -SIG_TAIL_LENGTH))))
            ? "bad signature"
            : !(x.n > lastN)
              ? "replayed"
              : // without a clock (no SNTP yet) a new n is enough
                wall > UNIX_2020_S && !(x.exp >= wall)
                ? "expired"
                : null;
        if (error) counts.refused++;
        else storage.writeJSON(COUNTER_FILE, (lastN = x.n));
      }
    }
    if (error || !v.ok) return answer({ error: error || (v as { error: string }).error });
    handlers()[v.value.op](v.value, answer);
  };
}
