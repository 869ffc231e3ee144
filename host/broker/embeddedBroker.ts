// The in-process broker: aedes on loopback, on 1883 or, when that is taken, a free port (port 0: a free one),
// and MQTT over WebSocket on a second port (default: the one after the TCP port, else a free one).
// The all-local demo (`npm start`) runs on it, and so do the benchmarks and tests that want a broker in this process.
import http from "node:http";
import net from "node:net";
import { Aedes } from "aedes";
import { createWebSocketStream, WebSocket, WebSocketServer } from "ws";

export interface EmbeddedBroker {
  host: string;
  port: number;
  url: string;
  /** the WebSocket listener's port and its ws:// URL (aedes speaks MQTT 3.1.1 there too) */
  wsPort: number;
  wsUrl: string;
  /** the aedes instance, for hooks such as authenticate */
  aedes: Aedes;
  /** clients currently connected */
  clients(): number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  host?: string;
  /** TCP port (default 1883; a free one when taken; 0: a free one) */
  port?: number;
  /** WebSocket port (default: the TCP port + 1, a free one when taken; 0: a free one) */
  wsPort?: number;
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

/** Listens on `port`, or on a free one when it is taken and `fallback` allows it. */
async function listenOrFree(server: net.Server, host: string, port: number, fallback: boolean): Promise<number> {
  try {
    return await listen(server, host, port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0 || !fallback) throw e;
    return listen(server, host, 0);
  }
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    broker.handle(socket);
  });
  // a plain HTTP request (a browser pointed at the port) gets an answer instead of hanging
  const httpServer = http.createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
    res.end("MQTT over WebSocket: connect an MQTT client to ws://" + host + ":" + (httpServer.address() as net.AddressInfo).port + "\n");
  });
  let port: number;
  let wsPort: number;
  try {
    port = await listenOrFree(server, host, opts.port ?? 1883, true);
    // "next to the TCP port" only when the TCP port is a fixed one; 65535 has no next
    const wantWs = opts.wsPort ?? (port < 65535 && opts.port !== 0 ? port + 1 : 0);
    wsPort = await listenOrFree(httpServer, host, wantWs, true);
  } catch (e) {
    server.close();
    broker.close();
    throw e;
  }
  // made once listening: it re-emits the HTTP server's errors, and a taken port is handled above
  const wss = new WebSocketServer({ server: httpServer });
  wss.on("error", () => {});
  const webSockets = new Set<WebSocket>();
  wss.on("connection", (ws, req) => {
    webSockets.add(ws);
    ws.on("close", () => webSockets.delete(ws));
    const stream = createWebSocketStream(ws);
    // aedes closes the client on a stream error; without a listener here one would be thrown
    stream.on("error", () => {});
    broker.handle(stream, req);
  });
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    wsPort,
    wsUrl: `ws://${host}:${wsPort}`,
    aedes: broker,
    clients: () => broker.connectedClients,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      for (const ws of webSockets) ws.terminate();
      wss.close();
      httpServer.closeAllConnections();
      httpServer.close(() => server.close(() => broker.close(() => resolve())));
    }),
  };
}
