// Server-sent events to the open pages: one write per batch, a keep-alive comment, a cap on clients, and a slow
// client (one that does not read) cut off once the bytes waiting in its socket pass a limit, the first
// snapshot included, so memory stays bounded whatever the clients do.
import type { ServerResponse } from "node:http";
import type { LiveStats } from "../view/dashboardData";

/** a page that has not drained this much is too slow: drop it (EventSource reconnects and gets a fresh snapshot) */
export const MAX_BACKLOG_BYTES = 1024 * 1024;
/** open live pages at most; more are refused with 503 */
export const MAX_SSE_CLIENTS = 32;

export interface SseHubOptions {
  keepAliveMs?: number;
  maxClients?: number;
  maxBacklogBytes?: number;
}

export class SseHub {
  private clients = new Set<ServerResponse>();
  private keepAlive: NodeJS.Timeout;
  readonly maxClients: number;
  readonly maxBacklogBytes: number;
  /** clients turned away because maxClients were open */
  refused = 0;
  /** clients dropped because their backlog passed maxBacklogBytes */
  cutOff = 0;

  constructor(opts: SseHubOptions = {}) {
    this.maxClients = opts.maxClients ?? MAX_SSE_CLIENTS;
    this.maxBacklogBytes = opts.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
    this.keepAlive = setInterval(() => this.writeAll(": keep-alive\n\n"), opts.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  stats(): LiveStats {
    return { clients: this.clients.size, maxClients: this.maxClients, refused: this.refused, cutOff: this.cutOff, maxBacklogBytes: this.maxBacklogBytes };
  }

  /** Opens the stream with `first` (built only when there is room) or refuses it with 503; false when refused. */
  add(res: ServerResponse, first?: () => { event: string; data: unknown }): boolean {
    if (this.clients.size >= this.maxClients) {
      this.refused++;
      const body = JSON.stringify({ error: `too many live connections (limit ${this.maxClients}): close another dashboard tab, or use /api/state` });
      res.writeHead(503, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "Retry-After": "10" });
      res.end(body);
      return false;
    }
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
    const f = first?.();
    this.write(res, "retry: 2000\n\n" + (f ? `event: ${f.event}\ndata: ${JSON.stringify(f.data)}\n\n` : ""));
    return true;
  }

  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.writeAll(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private writeAll(text: string): void {
    for (const res of this.clients) this.write(res, text);
  }

  /** Writes unless the client is already too far behind; cuts it off when this write leaves it too far behind. */
  private write(res: ServerResponse, text: string): void {
    if (res.writableLength <= this.maxBacklogBytes) res.write(text);
    if (res.writableLength > this.maxBacklogBytes && this.clients.delete(res)) {
      this.cutOff++;
      res.destroy();
    }
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
