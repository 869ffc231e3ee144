// Matches device replies to the commands we sent (by command id), with a timeout. One-to-one commands
// resolve on the first reply; group commands (R/all/cmd) collect replies until every expected device
// answered or the timeout.
import crypto from "node:crypto";
import type { Reply } from "../../firmware/contract";
import type { Trust } from "../view/deviceView";

export interface DeviceReply {
  device: string;
  reply: Reply;
  at: number;
  /** verified: signed with the device's key in the keyring */
  trust: Trust;
}

interface Pending {
  collectAll: boolean;
  /** for a group command: the devices whose replies end the wait early */
  awaited: Set<string> | null;
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

  /**
   * Waits for replies to command `id`; `timedOut` is true when the wait ended by the clock. With `collectAll`
   * every reply counts until the timeout, or until each device of `awaited` answered.
   */
  expect(id: string, timeoutMs: number, collectAll = false, awaited?: string[]): Promise<{ replies: DeviceReply[]; timedOut: boolean }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        resolve({ replies: p ? p.replies : [], timedOut: true });
      }, timeoutMs);
      this.pending.set(id, { collectAll, awaited: awaited ? new Set(awaited) : null, replies: [], timer, resolve });
    });
  }

  /** Offers a reply from `device`; returns true when it answered a command we are waiting for. */
  offer(device: string, reply: Reply, at = Date.now(), trust: Trust = "unsigned"): boolean {
    if (reply.re === null) return false;
    const p = this.pending.get(reply.re);
    if (!p) return false;
    if (p.collectAll && p.replies.some((r) => r.device === device)) return true; // a redelivered copy
    p.replies.push({ device, reply, at, trust });
    if (p.awaited) p.awaited.delete(device);
    if (!p.collectAll || (p.awaited && p.awaited.size === 0)) {
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
