// A scripted network for client tests: every socket the client opens is recorded; the test plays the
// broker (accept, send packets, drop) and reads what the client wrote, decoded by our decoder.
import type { Clock, Socket, SocketFactory, SocketHandlers, SocketTarget } from "../../../firmware/hal/hal";
import { Packet } from "../../../firmware/mqtt/codec";
import { encode } from "./encode";
import { createDecoder, Decoder } from "../../../firmware/mqtt/decoder";
import { parseAnyPacket } from "./parseToBroker";

export class FakeSocket implements Socket {
  written: Packet[] = [];
  closedByClient = false;
  private decoder: Decoder;

  constructor(readonly target: SocketTarget, private handlers: SocketHandlers, readonly openedAt: number) {
    this.decoder = createDecoder(1 << 20, parseAnyPacket, (p) => this.written.push(p), (e) => {
      throw new Error("the client wrote a malformed packet: " + e);
    });
  }

  write(data: Uint8Array): void {
    if (this.closedByClient) throw new Error("write after close()");
    this.decoder.feed_(data);
  }

  /** like a real socket, reports onClose once (here at once: the client must ignore its own late close) */
  close(): void {
    if (this.closedByClient) return;
    this.closedByClient = true;
    this.handlers.onClose();
  }

  /** the TCP connection is up */
  accept(): void {
    this.handlers.onConnect();
  }

  send(...packets: Packet[]): void {
    const parts = packets.map(encode);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let pos = 0;
    for (const p of parts) {
      all.set(p, pos);
      pos += p.length;
    }
    this.handlers.onData(all);
  }

  sendBytes(bytes: number[]): void {
    this.handlers.onData(new Uint8Array(bytes));
  }

  /** the peer or the network ends the connection */
  drop(error?: string): void {
    if (error) this.handlers.onError(error);
    this.handlers.onClose();
  }

  /** written packets of one type */
  sent(type: number): Packet[] {
    return this.written.filter((p) => p.type == type);
  }
}

export class FakeNetwork {
  sockets: FakeSocket[] = [];
  failNextOpen: string | null = null;

  constructor(private clock: Clock) {}

  factory: SocketFactory = (target, handlers) => {
    if (this.failNextOpen) {
      const why = this.failNextOpen;
      this.failNextOpen = null;
      throw new Error(why);
    }
    const s = new FakeSocket(target, handlers, this.clock.now());
    this.sockets.push(s);
    return s;
  };

  get last(): FakeSocket {
    const s = this.sockets[this.sockets.length - 1];
    if (!s) throw new Error("the client opened no socket");
    return s;
  }
}
