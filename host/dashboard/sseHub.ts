// Server-sent events to the open pages: one write per batch, a keep-alive comment, and slow clients cut
// off before their buffers grow without bound.
import type { ServerResponse } from "node:http";

/** a page that has not drained this much is too slow: drop it (it reconnects and refetches) */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class SseHub {
  private clients = new Set<ServerResponse>();
  private keepAlive: NodeJS.Timeout;

  constructor(keepAliveMs = 15_000) {
    this.keepAlive = setInterval(() => this.writeAll(": keep-alive\n\n"), keepAliveMs);
    this.keepAlive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse, first?: { event: string; data: unknown }): void {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write("retry: 2000\n\n");
    if (first) res.write(`event: ${first.event}\ndata: ${JSON.stringify(first.data)}\n\n`);
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
  }

  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.writeAll(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private writeAll(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
