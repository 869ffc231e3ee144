// Commands from R/D/cmd and R/all/cmd: validated with the contract, answered on R/D/reply with `re` = id.
// Malformed or unknown commands get an error reply and change nothing.
import { Capability, Command, Reply, validateCommand, Validation } from "../contract/payloads";

/** One handler per op (the app provides them); `done` gets the reply's fields besides `re` and `ok`. */
export type CommandHandlers = { [op in Capability]: (c: Command, done: (fields: object) => void) => void };

export type ReplySender = (reply: Reply) => void;

/** Handles one command payload (already UTF-8 decoded; null when it was not valid UTF-8). */
export function handleCommand(text: string | null, handlers: CommandHandlers, send: ReplySender): void {
  let v: Validation<Command> & { id?: string };
  try {
    // "" is not JSON either: null (bad UTF-8) fails here too, and is told apart below
    v = validateCommand(JSON.parse(text || ""));
  } catch (e) {
    v = { ok: false, error: "command is not valid " + (text === null ? "UTF-8" : "JSON") };
  }
  if (!v.ok) return send({ re: v.id || null, ok: false, error: v.error });
  const c = v.value;
  handlers[c.op](c, (fields) => send(Object.assign({ re: c.id, ok: true }, fields)));
}
