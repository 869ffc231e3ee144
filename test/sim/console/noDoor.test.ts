// The serial console is no door into the simulator: it listens on loopback only, and a connection that
// opens like HTTP (what a web page can send, from any origin, in real Chromium) or TLS is dropped before
// anything it sent is evaluated; the espruino CLI's way of talking still works (serialConsole.test.ts and
// test/cli/flashVirtualBoard.test.ts).
import http from "node:http";
import net from "node:net";
import { Browser } from "playwright-core";
import { launchChromium } from "../../support/chromium";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isLoopback, looksLikeHttp, startSerialConsole, SerialConsole } from "../../../sim/console/serialConsole";
import { until } from "../../support/until";
import { makeBoard, Harness } from "../boardHarness";


let h: Harness | null = null;
let con: SerialConsole | null = null;
afterEach(async () => {
  await con?.close();
  h?.board.powerOff();
  con = null;
  h = null;
});

/** Code that leaves two traces if it runs: a Storage file and a printed marker. */
const PAYLOAD = `require("Storage").write("pwned", "1"); print("MARK" + "ER ran");`;

async function consoleBoard(): Promise<{ h: Harness; con: SerialConsole }> {
  h = makeBoard(null);
  h.board.powerOn();
  con = await startSerialConsole(h.board, 0);
  return { h, con };
}

/** Sends `chunks` one by one (a tick apart) and resolves with what came back once the server closed it (or after 1 s). */
function exchange(port: number, chunks: string[]): Promise<{ closedByServer: boolean; received: string }> {
  return new Promise((resolve) => {
    let received = "";
    const socket = net.connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedByServer: false, received });
    }, 1000);
    socket.on("data", (d) => (received += d.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ closedByServer: true, received });
    });
    socket.on("connect", async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(Buffer.from(c, "latin1"));
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

describe("the console listens on loopback only", () => {
  it.each(["0.0.0.0", "::", "192.168.1.10", "localhost", "example.com"])("refuses to listen on %j", async (host) => {
    const b = makeBoard(null);
    await expect(startSerialConsole(b.board, 0, host)).rejects.toThrow(`serial console: ${JSON.stringify(host)} is not a loopback address`);
  });

  it.each([["127.0.0.1", true], ["127.5.0.1", true], ["::1", true], ["::ffff:127.0.0.1", true], ["10.0.0.1", false], ["::ffff:10.0.0.1", false], ["", false]])("%j is loopback: %s", (host, yes) => {
    expect(isLoopback(host)).toBe(yes);
  });
});

describe("a connection that opens like HTTP or TLS is dropped before anything is evaluated", () => {
  const http11 = (method: string) => `${method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\r\n\n${PAYLOAD}\n`;
  const openings: [string, string][] = [
    ...["GET", "POST", "PUT", "OPTIONS", "HEAD", "DELETE", "PATCH", "CONNECT", "TRACE"].map((m): [string, string] => [m, http11(m)]),
    ["a method in lower case", `post / HTTP/1.1\r\n\r\n\n${PAYLOAD}\n`],
    ["any request line", `BREW /pot HTTP/1.1\r\n\r\n\n${PAYLOAD}\n`],
    ["HTTP/2's preface", `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\n${PAYLOAD}\n`],
    ["a Host: line first", `Host: 127.0.0.1\r\n\n${PAYLOAD}\n`],
    ["an Origin: line after an empty one", `\nOrigin: http://evil.example\r\n${PAYLOAD}\n`],
    ["a TLS ClientHello", `\x16\x03\x01\x02\x00\x01\n${PAYLOAD}\n`],
  ];

  it.each(openings)("%s, sent at once", async (_name, bytes) => {
    const { h, con } = await consoleBoard();
    const r = await exchange(con.port, [bytes]);
    expect(r.closedByServer).toBe(true);
    expect(r.received).toBe("");
    expect(con.refused).toBe(1);
    await new Promise((res) => setTimeout(res, 50));
    expect(h.output.join("\n")).not.toContain("MARKER ran");
    expect(h.flash.get("pwned")).toBeUndefined();
  });

  // (a connection that starts with an empty line is a console client, as the espruino CLI's first bytes are:
  // a browser's request always starts with its method)
  it.each(openings.filter(([, b]) => !b.startsWith("\n")))("%s, sent a byte at a time", async (_name, bytes) => {
    const { h, con } = await consoleBoard();
    const r = await exchange(con.port, bytes.slice(0, 40).split("").concat(bytes.slice(40)));
    expect(r.closedByServer).toBe(true);
    expect(con.refused).toBe(1);
    expect(h.output.join("\n")).not.toContain("MARKER ran");
    expect(h.flash.get("pwned")).toBeUndefined();
  });

  it("the same code from a console client (not HTTP) runs: the traces above would show", async () => {
    const { h, con } = await consoleBoard();
    for (const opening of ["\n", "\x10", "\x03", "1+1\r\n"]) {
      h.flash.erase("pwned");
      await exchange(con.port, [opening + `\n${PAYLOAD}\n`]);
      await h.waitFor("MARKER ran");
      expect(h.flash.get("pwned")?.toString("latin1")).toBe("1");
      h.output.length = 0;
    }
    expect(con.refused).toBe(0);
  });

  it("sends the board's output only to connections whose first line passed", async () => {
    const { h, con } = await consoleBoard();
    let silent = "";
    const quiet = net.connect(con.port, "127.0.0.1");
    quiet.on("data", (d) => (silent += d.toString("latin1")));
    await new Promise((r) => quiet.once("connect", r));
    const talker = await exchange(con.port, ["\n", 'print("hello all")\n']);
    expect(talker.received).toContain("hello all");
    expect(h.output).toContain("hello all");
    expect(silent).toBe("");
    quiet.write("\n");
    await until(() => silent.includes(">"), 2000, "a prompt for the connection once its first line came");
    quiet.destroy();
  });

  it.each([
    ["GET / HTTP/1.1", true], ["POST /x HTTP/1.0", true], ["OPTIONS * HTTP/1.1", true], ["host: x", true], ["\nORIGIN: x", true],
    ["\x16\x03\x01", true], ["print(1)", false], ["\x10reset();", false], ["\n", false], ["Getter()", false], ["hosting = 1", false],
  ])("looksLikeHttp(%j) is %s", (head, yes) => {
    expect(looksLikeHttp(head)).toBe(yes);
  });
});

describe("a web page on another origin cannot post code to the console (headless Chromium)", () => {
  let browser: Browser;
  let page: http.Server;
  let pageUrl = "";

  beforeAll(async () => {
    browser = await launchChromium();
    page = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<!doctype html><title>not the console's origin</title>");
    });
    await new Promise<void>((r) => page.listen(0, "127.0.0.1", r));
    pageUrl = `http://127.0.0.1:${(page.address() as net.AddressInfo).port}/`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => page.close(() => r()));
  });

  it("a plain-text fetch POST and a text/plain form post reach the port and are dropped unevaluated", async () => {
    const { h, con } = await consoleBoard();
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl);
      const target = `http://127.0.0.1:${con.port}/`;
      const fetched = await tab.evaluate(async ({ target, body }) => {
        try {
          await fetch(target, { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body });
          return "answered";
        } catch (e) {
          return String(e);
        }
      }, { target, body: `\n${PAYLOAD}\n` });
      expect(fetched).toMatch(/Failed to fetch/);
      // the request did reach the console (a port the browser refuses would prove nothing)
      await until(() => con.refused >= 1, 5000, "the console to drop the browser's connection");
      const afterFetch = con.refused;
      // a form on the page posting text/plain (a navigation, no CORS at all)
      await tab.evaluate(({ target, payload }) => {
        const form = document.createElement("form");
        form.method = "POST";
        form.action = target;
        form.enctype = "text/plain";
        const field = document.createElement("input");
        field.name = "x";
        field.value = `\n${payload}\n`;
        form.appendChild(field);
        document.body.appendChild(form);
        form.submit();
      }, { target, payload: PAYLOAD }).catch(() => {});
      await until(() => con.refused > afterFetch, 5000, "the console to drop the form's connection");
      await new Promise((r) => setTimeout(r, 100));
      expect(h.output.join("\n")).not.toContain("MARKER ran");
      expect(h.flash.get("pwned")).toBeUndefined();
      // and the console still serves a real client afterwards
      const r = await exchange(con.port, ["\n", 'print("still here")\n']);
      expect(r.received).toContain("still here");
    } finally {
      await tab.close();
    }
  });
});
