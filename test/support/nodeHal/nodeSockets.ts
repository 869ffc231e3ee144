// The HAL SocketFactory over node:net and node:tls, so tests run the device MQTT client unchanged against
// real brokers. Buffers become Uint8Array at this edge.
import net from "node:net";
import tls from "node:tls";
import type { Socket, SocketFactory, SocketHandlers, SocketTarget } from "../../../firmware/hal/hal";

export interface NodeSocketOptions {
  /** verify the TLS server certificate (default true; the real device never does: Espruino's TLS does not check certificates) */
  rejectUnauthorized?: boolean;
  /** extra CA certificates for TLS (PEM) */
  ca?: string | Buffer | Array<string | Buffer>;
  /** ms allowed for the TCP (and TLS) handshake before the socket is closed (default 30 s) */
  connectTimeoutMs?: number;
}

export function nodeSocketFactory(opts: NodeSocketOptions = {}): SocketFactory {
  return (target: SocketTarget, handlers: SocketHandlers): Socket => {
    const s: net.Socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: net.isIP(target.host) ? undefined : target.host, rejectUnauthorized: opts.rejectUnauthorized ?? true, ca: opts.ca })
      : net.connect({ host: target.host, port: target.port });
    let closed = false;
    const connectTimer = setTimeout(() => {
      handlers.onError(`connect to ${target.host}:${target.port} timed out`);
      s.destroy();
    }, opts.connectTimeoutMs ?? 30_000);
    s.setNoDelay(true);
    s.once(target.tls ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      if (!closed) handlers.onConnect();
    });
    s.on("data", (d: Buffer) => {
      if (!closed) handlers.onData(new Uint8Array(d.buffer, d.byteOffset, d.length));
    });
    s.on("error", (e: Error) => {
      if (!closed) handlers.onError(`${target.host}:${target.port}: ${e.message}`);
    });
    s.on("close", () => {
      clearTimeout(connectTimer);
      if (closed) return;
      closed = true;
      handlers.onClose();
    });
    return {
      write(data: Uint8Array) {
        if (!closed && !s.destroyed) s.write(data);
      },
      close() {
        // flush what was written (a DISCONNECT just before close must reach the broker), then close for sure
        if (s.destroyed) return;
        s.end(() => s.destroy());
        setTimeout(() => s.destroy(), 2000).unref();
      },
    };
  };
}
