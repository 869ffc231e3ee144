// The virtual board runs hand-written Espruino programs with Espruino's semantics, and fails loudly on
// anything it does not emulate.
import { afterEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { VirtualFlash } from "../../../sim/board/storage";
import { makeBoard, Harness } from "../boardHarness";

let h: Harness | null = null;
afterEach(() => {
  h?.board.powerOff();
  h = null;
});

describe("virtual board", () => {
  it("names an unemulated module member instead of returning undefined", async () => {
    h = makeBoard(`setTimeout(function () { require("Wifi").scan(function () {}); }, 1);`);
    h.board.powerOn();
    await h.waitFor("Uncaught");
    expect(h.uncaught).toEqual(["Error: espdht sim: Wifi.scan is not emulated"]);
  });

  it("names unemulated globals, E members and modules", async () => {
    h = makeBoard(`
      try { analogRead(5); } catch (e) { print("1 " + e.message); }
      try { E.setClock(80); } catch (e) { print("2 " + e.message); }
      try { require("http"); } catch (e) { print("3 " + e.message); }
      try { require("dht22"); } catch (e) { print("4 " + e.message); }
      try { process.on("uncaughtException", function () {}); } catch (e) { print("5 " + e.message); }
      print("done");`);
    h.board.powerOn();
    await h.waitFor("done");
    expect(h.output.slice(0, 5)).toEqual([
      "1 espdht sim: analogRead is not emulated",
      "2 espdht sim: E.setClock is not emulated",
      '3 espdht sim: require("http") is not emulated',
      expect.stringContaining('4 espdht sim: require("dht22") is not emulated'),
      "5 espdht sim: process.on is not emulated",
    ]);
  });

  it("has only Espruino's builtins (no Map, Set, Symbol, Array.from, Node globals)", async () => {
    h = makeBoard(`print([typeof Map, typeof Set, typeof WeakMap, typeof Symbol, typeof Array.from, typeof Math.trunc, typeof Buffer, typeof require("Storage"), typeof global, typeof Promise].join(","));`);
    h.board.powerOn();
    await h.waitFor(",");
    expect(h.output[0]).toBe("undefined,undefined,undefined,undefined,undefined,undefined,undefined,object,object,function");
  });

  it("runs emit handlers after the current code and E.on('init') after the program", async () => {
    h = makeBoard(`
      var order = [];
      E.on("init", function () { order.push("init"); print(order.join(" ")); });
      E.on("ping", function (a) { order.push("handler " + a); });
      E.emit("ping", 1);
      order.push("after emit");`);
    h.board.powerOn();
    await h.waitFor("init");
    expect(h.output[0]).toBe("after emit handler 1 init");
  });

  it("keeps Espruino's timer rules: ids, clearTimeout(undefined) throws, clearTimeout() clears all", async () => {
    h = makeBoard(`
      var a = setTimeout(function () { print("a ran"); }, 20);
      var b = setInterval(function () { print("b ran"); }, 20);
      try { clearTimeout(undefined); } catch (e) { print("threw: " + e.message); }
      print("ids " + a + " " + b);
      clearTimeout();
      setTimeout(function () { print("end"); }, 60);`);
    h.board.powerOn();
    await h.waitFor("end");
    expect(h.output).toEqual(["threw: clearTimeout(undefined) not allowed. Use clearTimeout() instead", "ids 1 2", "end"]);
  });

  it("counts getTime() in seconds from boot until setTime sets it, and Date follows it", async () => {
    h = makeBoard(`
      var t0 = getTime();
      setTimeout(function () {
        var dt = getTime() - t0;
        setTime(1700000000);
        print("dt " + (dt > 0.04 && dt < 1) + " boot " + (t0 < 1) + " set " + Math.round(getTime()) + " date " + new Date().getUTCFullYear() + " now " + Math.round(Date.now() / 1000));
      }, 50);`);
    h.board.powerOn();
    const line = await h.waitFor("dt ");
    expect(line).toBe("dt true boot true set 1700000000 date 2023 now 1700000000");
  });

  it("converts bytes and 8-bit strings like E.toString / E.toUint8Array", async () => {
    h = makeBoard(`
      var s = E.toString(new Uint8Array([0, 65, 200, 255]));
      var u = E.toUint8Array(s);
      print(s.length + " " + s.charCodeAt(2) + " " + (u instanceof Uint8Array) + " " + u.join("-") + " " + E.toString([1, 2], 3).length);`);
    h.board.powerOn();
    await h.waitFor(" ");
    expect(h.output[0]).toBe("4 200 true 0-65-200-255 3");
  });

  it("keeps Storage across a reboot and in its file across power-off", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-sim-storage-"));
    const file = path.join(dir, "board.json");
    const program = `
      var S = require("Storage");
      var n = (S.readJSON("boots", true) || 0) + 1;
      S.writeJSON("boots", n);
      print("boot " + n + " " + (S.readJSON("boots") instanceof Object) + " " + S.list().length);
      if (n < 3) setTimeout(function () { E.reboot(); }, 10);`;
    h = makeBoard(program, { flash: new VirtualFlash(file) });
    h.board.powerOn();
    await h.waitFor("boot 3");
    expect(h.output).toEqual(["boot 1 false 1", "boot 2 false 1", "boot 3 false 1"]);
    h.board.powerOff();
    h = makeBoard(program, { flash: new VirtualFlash(file) });
    h.board.powerOn();
    await h.waitFor("boot 4");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("follows Storage.write offset/size semantics (0xFF fill, no overwrite)", async () => {
    h = makeBoard(`
      var S = require("Storage");
      S.write("a", "Hello", 0, 8);
      var r1 = S.read("a");
      S.write("a", "Wor", 5);
      var r2 = S.read("a");
      try { S.write("a", "X", 0 + 1); } catch (e) { print("E " + e.message); }
      print(r1.length + " " + r1.charCodeAt(7) + " " + r2 + " " + S.readJSON("nope", true));`);
    h.board.powerOn();
    await h.waitFor("8 ");
    expect(h.output).toEqual(["E File already written with different data", "8 255 HelloWor undefined"]);
  });

  it("warns and returns undefined for a watch on a flash pin, like the ESP32 build", async () => {
    h = makeBoard(`print("id " + setWatch(function () {}, 6, { repeat: true }));`);
    h.board.powerOn();
    await h.waitFor("id ");
    expect(h.output[0]).toContain("WARNING: Unable to set watch");
    expect(h.output[h.output.length - 1]).toBe("id undefined");
  });

  it("rejects writes of characters above 0xFF on sockets (Espruino strings are bytes)", async () => {
    h = makeBoard(`
      require("Wifi").connect("ap", {}, function () {
        var s = require("net").connect({ host: "127.0.0.1", port: 9 }, function () {});
        try { s.write("caf\\u00e9 \\u20ac"); } catch (e) { print("E " + e.message); }
        try { s.write(new Uint8Array([1, 2])); } catch (e) { print("F " + e.message); }
        s.on("close", function (hadError) { print("closed " + hadError); });
      });`);
    h.board.powerOn();
    await h.waitFor("closed");
    expect(h.output[0]).toContain("U+20AC");
    expect(h.output[1]).toContain("convert bytes with E.toString()");
  });

  it("reproduces the ESP32 setWatch quirk: watching during the start pulse ends it, so a DHT11 never answers", async () => {
    h = makeBoard(`
      function read(watchEarly, done) {
        var edges = 0;
        pinMode(4, "output");
        digitalWrite(4, 0);
        var w;
        var watch = function () { w = setWatch(function () { edges++; }, 4, { repeat: true, edge: "falling" }); };
        if (watchEarly) watch(); // the stock module's order: on ESP32 this releases the line at once
        setTimeout(function () {
          if (!watchEarly) watch();
          pinMode(4, "input_pullup");
          setTimeout(function () { clearWatch(w); done(edges); }, 30);
        }, 20);
      }
      setTimeout(function () {
        read(true, function (stock) {
          setTimeout(function () { read(false, function (recipe) { print("stock " + stock + " recipe " + recipe); }); }, 2100);
        });
      }, 1100);`, { part: { model: "dht11", dht11Decimals: false } });
    h.board.powerOn();
    const line = await h.waitFor("recipe", 6000);
    expect(line).toMatch(/^stock 0 recipe 4[12]$/);
  });

  it("times digitalPulse edges exactly, as the hardware timer does", async () => {
    h = makeBoard(`
      var seen = [];
      setWatch(function (e) { seen.push((e.state ? "rise " : "fall ") + (e.lastTime === undefined ? "-" : Math.round((e.time - e.lastTime) * 1e6))); }, 5, { repeat: true, edge: "both" });
      digitalPulse(5, 1, [5, 3, 2]);
      setTimeout(function () { print(seen.join(", ")); }, 40);`);
    h.board.powerOn();
    const line = await h.waitFor("fall");
    // high 5 ms, low 3 ms, high 2 ms, then back low: each edge exactly the pulse length after the previous one
    expect(line).toBe("fall -, rise 3000, fall 2000");
  });

  it("keeps timers longer than Node's 24.8-day limit pending, and refuses periods over 100 years", async () => {
    h = makeBoard(`
      setTimeout(function () { print("month fired"); }, 30 * 86400 * 1000);
      try { setTimeout(function () {}, 1e15); } catch (e) { print("E " + e.message); }
      setTimeout(function () { print("short fired"); }, 40);`);
    h.board.powerOn();
    await h.waitFor("short fired");
    expect(h.output).toEqual(["E Interval is too long (>100 years)", "short fired"]);
  });

  it("delivers socket data as 8-bit strings in arbitrary chunks, and writes 8-bit strings as bytes", async () => {
    const payload = Buffer.alloc(4096);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    let received = Buffer.alloc(0);
    const server = net.createServer((sock) => {
      sock.on("error", () => {}); // the board powers off without closing
      sock.on("data", (d) => { received = Buffer.concat([received, d]); });
      for (let i = 0; i < payload.length; i += 512) sock.write(payload.subarray(i, i + 512));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      h = makeBoard(`
        require("Wifi").connect("ap", {}, function () {
          var got = "", chunks = 0;
          var s = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { s.write("\u0000\u00ff\u0080ok"); });
          s.on("data", function (d) {
            chunks++;
            got += d;
            if (got.length >= 4096) {
              var ok = true;
              for (var i = 0; i < got.length; i++) if (got.charCodeAt(i) !== ((i * 7) & 255)) ok = false;
              print("got " + got.length + " ok " + ok + " chunks " + chunks + " type " + typeof d);
            }
          });
        });`);
      h.board.powerOn();
      const line = await h.waitFor("got ");
      expect(line).toMatch(/^got 4096 ok true chunks \d+ type string$/);
      expect([...received]).toEqual([0, 255, 128, 111, 107]);
    } finally {
      server.close();
    }
  });
});
