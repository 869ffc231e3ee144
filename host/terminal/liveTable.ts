// Redraws a block of lines in place on a TTY at a fixed cadence (never once per message).
export const HIDE_CURSOR = "\x1b[?25l";
export const SHOW_CURSOR = "\x1b[?25h";
const NO_WRAP = "\x1b[?7l";
const WRAP = "\x1b[?7h";
const CLEAR_TO_END = "\x1b[J";

export class LiveTable {
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly out: NodeJS.WriteStream, private readonly render: () => string[]) {}

  /** Starts redrawing every `periodMs`; long lines are cut, not wrapped, so the block height stays known. */
  start(periodMs: number): void {
    this.out.write(HIDE_CURSOR + NO_WRAP);
    this.draw();
    this.timer = setInterval(() => this.draw(), periodMs);
  }

  draw(): void {
    const lines = this.render();
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : "";
    this.out.write(up + CLEAR_TO_END + lines.join("\n") + "\n");
    this.drawn = lines.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.out.write(WRAP + SHOW_CURSOR);
  }
}
