// A virtual board's SERIAL console over TCP (127.0.0.1): Espruino's line REPL, enough for the espruino CLI
// to upload (`-p tcp://127.0.0.1:PORT`). A line starting with \x10 runs with echo off; every line is
// answered with a `>` prompt; `reset()` / `load()` take effect before the next line is read, as on the device.
import net from "node:net";
import vm from "node:vm";
import type { VirtualBoard } from "../board/board";
import { formatForConsole } from "../board/espruinoGlobals";

export interface SerialConsole {
  port: number;
  close(): Promise<void>;
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

  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => input(d.toString("latin1")));
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => clients.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((done) => {
          board.off("console", onOutput);
          for (const c of clients) c.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
