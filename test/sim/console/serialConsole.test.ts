// The serial console takes an upload the way the espruino CLI sends it (ESPRUINO.md section 6) and the
// board reboots into the uploaded code; the real CLI flashes dist/firmware.js into a virtual board.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startSerialConsole, SerialConsole } from "../../../sim/console/serialConsole";
import { startFleet, Fleet } from "../../../sim/fleet/fleet";
import { FIRMWARE_OUT, ESPRUINO_BUILTIN_MODULES } from "../../../tools/buildFirmware";
import { startAedes, RunningBroker } from "../../support/brokers";
import { makeBoard, Harness } from "../boardHarness";
import { record, Recorder } from "../fleet/subscriber";
import { validateReading } from "../../../firmware/contract";

let h: Harness | null = null;
let con: SerialConsole | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await con?.close();
  h?.board.powerOff();
  con = null;
  h = null;
  for (const c of cleanups.splice(0)) await c();
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

  it("the real espruino CLI flashes dist/firmware.js and its config into a virtual board, whose readings arrive", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-console-"));
    const broker: RunningBroker = await startAedes();
    const root = "espdht/flashtest-" + randomBytes(3).toString("hex");
    const sub: Recorder = await record(broker.url, root + "/#");
    const blank = path.join(dir, "blank.js");
    fs.writeFileSync(blank, 'print("blank board");');
    // a board that does nothing yet (no firmware), with a console
    const fleet: Fleet = await startFleet({ broker: broker.url, root: "espdht/unused", devices: 1, interval: 2, model: "dht22", pin: 4, seed: "flash", dataDir: null, firmwareFile: blank, log: () => {} });
    con = await startSerialConsole(fleet.boards[0], 0);
    cleanups.push(async () => { await fleet.stop(); await sub.close(); await broker.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
    const boardFile = path.join(dir, "ESP32.json");
    fs.writeFileSync(boardFile, JSON.stringify({ info: { name: "ESP32", binary_version: "2v29", builtin_modules: ESPRUINO_BUILTIN_MODULES } }));
    const configFile = path.join(dir, "espdht.json");
    fs.writeFileSync(configFile, JSON.stringify({ broker: { host: "127.0.0.1", port: broker.port }, root, interval: 2, wifi: { ssid: "espdht-sim", password: "" } }));
    const cli = createRequire(import.meta.url).resolve("espruino/bin/espruino-cli.js");
    const out = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [cli, "--no-ble", "--board", boardFile, "--config", "MODULE_URL=http://127.0.0.1", "-p", `tcp://127.0.0.1:${con!.port}`, "--storage", `espdht.json:${configFile}`, "--storage", ".bootcde:-", FIRMWARE_OUT], { stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      p.stdout.on("data", (d) => (text += d));
      p.stderr.on("data", (d) => (text += d));
      p.on("close", () => resolve(text));
    });
    expect(out).toContain("Upload Complete");
    expect(out).not.toMatch(/Unable to connect|not found/);
    expect(fleet.boards[0].spec.flash.get(".bootcde")!.toString("latin1")).toBe(fs.readFileSync(FIRMWARE_OUT, "latin1"));
    await sub.until((ms) => ms.filter((m) => m.topic.endsWith("/reading")).length >= 2, 30_000, "readings from the flashed board");
    const reading = JSON.parse(sub.messages.find((m) => m.topic.endsWith("/reading"))!.text);
    expect(validateReading(reading).ok).toBe(true);
    expect(reading.id).toBe(fleet.ids[0]);
  }, 90_000);
});
