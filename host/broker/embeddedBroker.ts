// The in-process broker: aedes on loopback, on 1883 or, when that is taken, a free port (port 0: a free one).
// The all-local demo (`npm start`) runs on it, and so do the benchmarks and tests that want a broker in this process.
import net from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  host: string;
  port: number;
  url: string;
  /** the aedes instance, for hooks such as authenticate */
  aedes: Aedes;
  /** clients currently connected */
  clients(): number;
  close(): Promise<void>;
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => { server.off("listening", onListening); reject(e); };
    const onListening = () => { server.off("error", onError); resolve((server.address() as net.AddressInfo).port); };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

export async function startEmbeddedBroker(opts: { host?: string; port?: number } = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    broker.handle(socket);
  });
  let port: number;
  try {
    port = await listen(server, host, opts.port ?? 1883);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || opts.port === 0) throw e;
    port = await listen(server, host, 0);
  }
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    aedes: broker,
    clients: () => broker.connectedClients,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => broker.close(() => resolve()));
    }),
  };
}
