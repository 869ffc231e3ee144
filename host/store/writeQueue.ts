// Readings and last-seen times waiting to be written: handed out as one batch when `batchRows` rows are
// queued or `flushMs` after the first one, whichever comes first.
import type { Reading } from "../../firmware/contract";
import { PackedRows, RowPacker } from "./rowFormat";

export type CommitBatch = (rows: PackedRows, seen: [string, number][]) => void;

export class WriteQueue {
  private readonly packer: RowPacker;
  private seen = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(batchRows: number, private readonly flushMs: number, private readonly commit: CommitBatch) {
    this.packer = new RowPacker(batchRows);
  }

  add(r: Reading, receivedAt: number): void {
    this.packer.add(r, receivedAt);
    if (this.packer.full) this.flush();
    else this.schedule();
  }

  noteSeen(id: string, at: number): void {
    this.seen.set(id, at);
    this.schedule();
  }

  /** Hands everything queued to `commit` now (nothing when the queue is empty). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.packer.length === 0 && this.seen.size === 0) return;
    const rows = this.packer.take();
    const seen = [...this.seen];
    this.seen.clear();
    this.commit(rows, seen);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.flushMs);
    this.timer.unref();
  }
}
