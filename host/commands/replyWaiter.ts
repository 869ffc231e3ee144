// Matches device replies to the commands we sent (by command id), with a timeout. One-to-one commands
// resolve on the first reply; group commands (R/all/cmd) collect every reply until the timeout.
import crypto from "node:crypto";
import type { Reply } from "../../firmware/contract";

export interface DeviceReply {
  device: string;
  reply: Reply;
  at: number;
}

interface Pending {
  collectAll: boolean;
  replies: DeviceReply[];
  timer: NodeJS.Timeout;
  resolve: (r: { replies: DeviceReply[]; timedOut: boolean }) => void;
}

/** A fresh command id: short, unguessable, and unique per sender. */
export function newCommandId(): string {
  return "h" + crypto.randomBytes(6).toString("hex");
}

export class ReplyWaiter {
  private pending = new Map<string, Pending>();

  /** Waits for replies to command `id`; `timedOut` is true when the wait ended by the clock. */
  expect(id: string, timeoutMs: number, collectAll = false): Promise<{ replies: DeviceReply[]; timedOut: boolean }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        resolve({ replies: p ? p.replies : [], timedOut: true });
      }, timeoutMs);
      this.pending.set(id, { collectAll, replies: [], timer, resolve });
    });
  }

  /** Offers a reply from `device`; returns true when it answered a command we are waiting for. */
  offer(device: string, reply: Reply, at = Date.now()): boolean {
    if (reply.re === null) return false;
    const p = this.pending.get(reply.re);
    if (!p) return false;
    p.replies.push({ device, reply, at });
    if (!p.collectAll) {
      clearTimeout(p.timer);
      this.pending.delete(reply.re);
      p.resolve({ replies: p.replies, timedOut: false });
    }
    return true;
  }

  get waiting(): number {
    return this.pending.size;
  }

  cancelAll(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ replies: p.replies, timedOut: true });
      this.pending.delete(id);
    }
  }
}
