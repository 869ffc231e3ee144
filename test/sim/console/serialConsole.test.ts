// The serial console takes an upload the way the espruino CLI sends it (docs/espruino.md section 6) and the
// board reboots into the uploaded code; the real CLI flashes dist/firmware.js into a virtual board.
import { afterEach, describe, expect, it } from "vitest";
import net from "node:net";
import { startSerialConsole, SerialConsole } from "../../../sim/console/serialConsole";
import { makeBoard, Harness } from "../boardHarness";

let h: Harness | null = null;
let con: SerialConsole | null = null;
afterEach(async () => {
  await con?.close();
  h?.board.powerOff();
  con = null;
  h = null;
});

function connect(port: number): Promise<{ socket: net.Socket; received: () => string; waitFor(text: string): Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = "";
    const waiters: { text: string; done: () => void }[] = [];
    const socket = net.connect(port, "127.0.0.1", () =>
      resolve({
        socket,
        received: () => data,
        waitFor: (text) => new Promise<void>((done, fail) => {
          if (data.includes(text)) return done();
          const t = setTimeout(() => fail(new Error(`console never sent ${JSON.stringify(text)}; got ${JSON.stringify(data)}`)), 5000);
          waiters.push({ text, done: () => { clearTimeout(t); done(); } });
        }),
      }));
    socket.on("data", (d) => {
      data += d.toString("latin1");
      for (const w of waiters.slice()) if (data.includes(w.text)) { waiters.splice(waiters.indexOf(w), 1); w.done(); }
    });
    socket.on("error", reject);
  });
}

describe("serial console", () => {
  it("answers a newline with =undefined and a prompt, and echoes and evaluates typed lines", async () => {
    h = makeBoard(null);
    h.board.powerOn();
    con = await startSerialConsole(h.board, 0);
    const c = await connect(con.port);
    c.socket.write("\n");
    await c.waitFor(">");
    expect(c.received()).toBe("\r\n=undefined\r\n>");
    c.socket.write("1+2\r\n");
    await c.waitFor("=3");
    expect(c.received().endsWith("1+2\r\n=3\r\n>")).toBe(true);
    c.socket.write("function f(a) {\n  return a * 2;\n}\nf(21)\n");
    await c.waitFor("=42");
    c.socket.destroy();
  });

  it("accepts the CLI's exact upload bytes (echo off, chunked Storage writes) and reboots into the code", async () => {
    h = makeBoard(null);
    h.board.powerOn();
    con = await startSerialConsole(h.board, 0);
    const c = await connect(con.port);
    const code = 'print("hello from " + "upload", typeof require("Storage").read);\n';
    const quoted = (s: string) => JSON.stringify(s);
    const cut = 20;
    c.socket.write("\n");
    await c.waitFor(">");
    const upload =
      "\x10reset();\n" +
      "\x10print()\n" +
      `\x10require("Storage").write(".bootcde",${quoted(code.slice(0, cut))},0,${code.length});\n` +
      `\x10require("Storage").write(".bootcde",${quoted(code.slice(cut))},${cut});\n` +
      '\x10load(".bootcde")\n\n';
    const before = c.received().length;
    c.socket.write(upload);
    await h.waitFor("hello from upload");
    expect(h.output).toContain("hello from upload function");
    expect(h.flash.get(".bootcde")!.toString("latin1")).toBe(code);
    // echo off: none of the uploaded lines come back
    await c.waitFor("hello from upload");
    expect(c.received().slice(before)).not.toContain("Storage");
    // and the uploaded code is what runs at every boot from now on
    h.board.powerOff();
    h.output.length = 0;
    h.board.powerOn();
    await h.waitFor("hello from upload");
    c.socket.destroy();
  });
});
