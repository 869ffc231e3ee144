// A virtual board's SERIAL console over TCP (127.0.0.1): Espruino's line REPL, enough for the espruino CLI
// to upload (`-p tcp://127.0.0.1:PORT`). A line starting with \x10 runs with echo off; every line is
// answered with a `>` prompt; `reset()` / `load()` take effect before the next line is read, as on the device.
// It is no door: it listens on loopback only, and a connection that opens like HTTP (a web page posting to
// the port) or TLS is dropped before anything it sent is evaluated; output reaches a connection only once
// its first line passed that check.
import net from "node:net";
import vm from "node:vm";
import type { VirtualBoard } from "../board/board";
import { formatForConsole } from "../board/espruinoGlobals";

export interface SerialConsole {
  port: number;
  /** connections dropped because they opened like HTTP or TLS */
  readonly refused: number;
  close(): Promise<void>;
}

/** What a connection's first bytes may not start with (methods of HTTP, WebDAV-less; HTTP/2's preface). */
const HTTP_METHODS = ["GET ", "POST ", "PUT ", "OPTIONS ", "HEAD ", "DELETE ", "PATCH ", "CONNECT ", "TRACE ", "PRI "];
/** A request line of any method token: `TOKEN SP target SP HTTP/` */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ HTTP\//;
/** Header lines a browser always sends */
const HEADER_LINE = /^(host|origin):/im;
/** TLS records start with 0x16 0x03 (a browser asked for https://) */
const TLS_HANDSHAKE = "\x16\x03";
/** Bytes held before deciding without a newline (the espruino CLI's first line is empty) */
const DECIDE_AFTER = 8192;

/** Whether a connection's first bytes (up to and including its first line) look like HTTP or TLS. */
export function looksLikeHttp(head: string): boolean {
  const upper = head.toUpperCase();
  if (HTTP_METHODS.some((m) => upper.startsWith(m))) return true;
  if (head.startsWith(TLS_HANDSHAKE)) return true;
  return REQUEST_LINE.test(head) || HEADER_LINE.test(head);
}

/** Whether the first line is complete, or need not be: a control character first (the espruino CLI sends
 * "\n", "\x03" or "\x10") is never how HTTP or TLS starts. */
function readyToDecide(head: string): boolean {
  return /[\r\n]/.test(head) || head.length >= DECIDE_AFTER || (head.charCodeAt(0) < 0x20 && head.charCodeAt(0) !== 0x16);
}

/** 127.0.0.0/8 or ::1 (a name is refused: it could resolve elsewhere). */
export function isLoopback(host: string): boolean {
  if (net.isIPv4(host)) return host.startsWith("127.");
  if (net.isIPv6(host)) return host === "::1" || /^::ffff:127\./i.test(host);
  return false;
}

const ECHO_OFF = "\x10";
const CTRL_C = "\x03";

/** Whether `code` is a complete statement list, or waits for more lines (open bracket, template, ...). */
function isIncomplete(code: string): boolean {
  try {
    new vm.Script(code);
    return false;
  } catch (e) {
    const m = (e as Error).message;
    return e instanceof SyntaxError && (m.includes("Unexpected end of input") || m.includes("Unterminated template"));
  }
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

export function startSerialConsole(board: VirtualBoard, port: number, host = "127.0.0.1"): Promise<SerialConsole> {
  if (!isLoopback(host)) {
    return Promise.reject(new Error(`serial console: ${JSON.stringify(host)} is not a loopback address (use 127.0.0.1 or ::1): the console runs any code it is sent`));
  }
  let refused = 0;
  const clients = new Set<net.Socket>();
  const send = (text: string) => {
    for (const c of clients) c.write(Buffer.from(text, "latin1"));
  };
  let busy = false;
  // output the board prints on its own: shown above the prompt
  const onOutput = (text: string) => {
    if (busy) send(crlf(text));
    else send("\r" + crlf(text) + ">");
  };
  board.on("console", onOutput);

  let pending = "";
  let statement = "";
  let statementEcho = true;
  const lines: { text: string; echo: boolean }[] = [];
  let draining = false;

  const runLine = (code: string, echo: boolean) => {
    busy = true;
    if (echo) send(crlf(code) + "\r\n");
    try {
      const result = code.trim() === "" ? undefined : board.evaluate(code);
      if (echo) send("=" + crlf(formatForConsole([result])) + "\r\n");
    } catch (e) {
      const err = e as { name?: string; message?: string };
      send(`Uncaught ${err && err.message !== undefined ? `${err.name ?? "Error"}: ${err.message}` : String(e)}\r\n`);
    }
    busy = false;
    send(">");
  };

  // one line per turn of the event loop, so a reset()/load() queued by a line completes before the next
  const drain = () => {
    const next = lines.shift();
    if (!next) {
      draining = false;
      return;
    }
    runLine(next.text, next.echo);
    setImmediate(drain);
  };

  let lastWasCr = false;
  const input = (chunk: string) => {
    for (const ch of chunk) {
      // "\r\n" is one newline
      if (ch === "\n" && lastWasCr) {
        lastWasCr = false;
        continue;
      }
      lastWasCr = ch === "\r";
      if (ch === CTRL_C) {
        pending = "";
        statement = "";
        send("\r\n>");
        continue;
      }
      if (ch !== "\n" && ch !== "\r") {
        pending += ch;
        continue;
      }
      let line = pending;
      pending = "";
      if (statement === "") {
        statementEcho = !line.startsWith(ECHO_OFF);
      }
      if (line.startsWith(ECHO_OFF)) line = line.slice(1);
      statement = statement === "" ? line : statement + "\n" + line;
      if (isIncomplete(statement)) continue;
      lines.push({ text: statement, echo: statementEcho });
      statement = "";
      if (!draining) {
        draining = true;
        setImmediate(drain);
      }
    }
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const forget = () => {
      sockets.delete(socket);
      clients.delete(socket);
    };
    socket.on("close", forget);
    socket.on("error", forget);
    const refuse = () => {
      state = "refused";
      refused++;
      socket.destroy();
    };
    // nothing from a connection is evaluated until its first line shows it is not HTTP
    let state: "undecided" | "console" | "refused" = "undecided";
    let head = "";
    socket.on("data", (d: Buffer) => {
      const text = d.toString("latin1");
      if (state === "console") return input(text);
      if (state === "refused") return;
      head += text;
      if (looksLikeHttp(head)) return refuse();
      if (!readyToDecide(head)) return;
      state = "console";
      clients.add(socket);
      input(head);
      head = "";
    });
    if (!isLoopback(socket.remoteAddress ?? "")) refuse();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        get refused() {
          return refused;
        },
        close: () => new Promise<void>((done) => {
          board.off("console", onOutput);
          for (const c of sockets) c.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
