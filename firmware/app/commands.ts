// Commands from R/D/cmd and R/all/cmd: validated with the contract, answered on R/D/reply with `re` = id.
// Malformed or unknown commands get an error reply and change nothing.
import { Command, Reply, Settings, validateCommand } from "../contract/payloads";

/** What the commands act on (the app provides it). */
export interface CommandTarget {
  /** reads the sensor now; `done` gets the published reading payload */
  readNow(done: (reading: object) => void): void;
  /** applies and persists validated settings; returns all settings now in effect */
  applySettings(set: Partial<Settings>): Settings;
  /** the effective config without secrets */
  effectiveConfig(): object;
  up(): number;
  /** restarts the board soon (the reply leaves first), unless this very command already restarted it */
  restart(id: string): void;
}

export type ReplySender = (reply: Reply) => void;

/** Handles one command payload (already UTF-8 decoded; null when it was not valid UTF-8). */
export function handleCommand(text: string | null, target: CommandTarget, send: ReplySender): void {
  if (text === null) return send({ re: null, ok: false, error: "command is not valid UTF-8" });
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    return send({ re: null, ok: false, error: "command is not valid JSON" });
  }
  const v = validateCommand(x);
  if (!v.ok) return send({ re: v.id === undefined ? null : v.id, ok: false, error: v.error });
  run(v.value, target, send);
}

function run(c: Command, target: CommandTarget, send: ReplySender): void {
  const re = c.id;
  if (c.op === "read") target.readNow((reading) => send({ re, ok: true, reading }));
  else if (c.op === "set") send({ re, ok: true, settings: target.applySettings(c.set as Partial<Settings>) });
  else if (c.op === "get") send({ re, ok: true, config: target.effectiveConfig() });
  else if (c.op === "ping") send({ re, ok: true, up: target.up() });
  else {
    send({ re, ok: true });
    target.restart(re);
  }
}
