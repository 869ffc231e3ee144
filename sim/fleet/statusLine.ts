// The fleet's live status on stderr: one line rewritten in place at a fixed cadence on a terminal,
// a plain line every 10 s otherwise (logs stay readable).
import type { Fleet } from "./fleet";

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hh = String(Math.floor(s / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${hh}:${mm}:${ss}`;
}

export function statusText(fleet: Fleet, startedAt: number, now = Date.now()): string {
  const s = fleet.stats();
  const parts = [
    `${s.boards} board${s.boards === 1 ? "" : "s"} on ${fleet.root}`,
    `wifi ${s.wifi}/${s.boards}`,
    `mqtt ${s.mqtt}/${s.boards}`,
    `readings ${s.readings}${s.errorReadings ? ` (${s.errorReadings} errors)` : ""}`,
  ];
  if (s.outputs) parts.push(`outputs on ${s.outputsOn}/${s.outputs}`);
  if (s.loginRefused) parts.push(`login refused ${s.loginRefused} (wrong broker username/password?)`);
  if (s.reboots) parts.push(`reboots ${s.reboots}`);
  if (s.uncaught) parts.push(`uncaught ${s.uncaught}`);
  if (s.kickLoops) parts.push(`duplicate id: ${s.kickLoops} sessions taken over, ${s.backingOff} backing off`);
  parts.push(`up ${clock(now - startedAt)}`);
  return "sim: " + parts.join(" | ");
}

export interface StatusLine {
  /** print a message above the status line */
  log(line: string): void;
  stop(): void;
}

export function startStatusLine(fleet: Fleet, stream: NodeJS.WriteStream = process.stderr, cadenceMs = 1000): StatusLine {
  const startedAt = Date.now();
  const tty = !!stream.isTTY;
  let shown = false;
  const clear = () => {
    if (tty && shown) stream.write("\r\x1b[2K");
    shown = false;
  };
  const draw = () => {
    const text = statusText(fleet, startedAt);
    if (tty) {
      const width = stream.columns || 120;
      stream.write("\r\x1b[2K" + (text.length > width - 1 ? text.slice(0, width - 2) + "…" : text));
      shown = true;
    } else stream.write(text + "\n");
  };
  const timer = setInterval(draw, tty ? cadenceMs : 10_000);
  if (tty) draw();
  return {
    log(line) {
      clear();
      stream.write(line + "\n");
      if (tty) draw();
    },
    stop() {
      clearInterval(timer);
      clear();
      stream.write(statusText(fleet, startedAt) + "\n");
    },
  };
}
