// Checks the ONE artifact, dist/firmware.js (built by test/globalSetup.ts): no helper Espruino cannot run,
// no module glue, the size budget, and that it boots and talks MQTT when given exactly the Espruino APIs
// listed at the top of firmware/hal/espruino.ts.
import fs from "node:fs";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import ts from "typescript";
import mqttPacket from "mqtt-packet";
import { createHash, createHmac } from "node:crypto";
import { FIRMWARE_DEBUG_OUT, FIRMWARE_OUT, SIZE_BUDGET_BYTES } from "../../tools/buildFirmware";
import { checkBundleText, checkSource } from "../../tools/espruinoSyntaxCheck";

const min = fs.readFileSync(FIRMWARE_OUT, "utf8");
const debug = fs.readFileSync(FIRMWARE_DEBUG_OUT, "utf8");

describe("dist/firmware.js", () => {
  it("contains no helper Espruino cannot run", () => {
    expect(checkBundleText("dist/firmware.js", min)).toEqual([]);
    expect(checkBundleText("dist/firmware.debug.js", debug)).toEqual([]);
  });

  it("has no export, no module/exports use, and requires only built-in modules", () => {
    const sf = ts.createSourceFile("firmware.debug.js", debug, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
    const found: string[] = [];
    const visit = (n: ts.Node) => {
      if (ts.isExportDeclaration(n) || ts.isExportAssignment(n)) found.push("export");
      if (ts.isIdentifier(n) && (n.text === "module" || n.text === "exports") && !ts.isPropertyAccessExpression(n.parent)) found.push(n.text);
      if (ts.isIdentifier(n) && (n.text === "module" || n.text === "exports") && ts.isPropertyAccessExpression(n.parent) && n.parent.expression === n) found.push(n.text);
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "require") {
        const arg = n.arguments[0];
        found.push("require " + (arg && ts.isStringLiteral(arg) ? arg.text : "<dynamic>"));
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    expect(found.filter((f) => !f.startsWith("require "))).toEqual([]);
    expect([...new Set(found)].sort()).toEqual(["require Storage", "require TelnetServer", "require Wifi", "require crypto", "require net", "require tls"]);
    expect(min).not.toMatch(/\bexport\b/);
  });

  it(`fits the size budget (${SIZE_BUDGET_BYTES} bytes minified)`, () => {
    const size = Buffer.byteLength(min);
    process.stderr.write(`dist/firmware.js: ${size} bytes minified, dist/firmware.debug.js: ${Buffer.byteLength(debug)} bytes\n`);
    expect(size).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  });

  it("parses as a script (new Function)", () => {
    expect(() => new Function(min)).not.toThrow();
    expect(() => new Function(debug)).not.toThrow();
  });

  it("passes the Espruino source rules as a whole (the bundle, not just the sources)", () => {
    const vs = checkSource("dist/firmware.debug.js", debug, { mayUseEspruinoGlobals: true });
    expect(vs).toEqual([]);
  });
});

/** A board offering exactly the Espruino APIs the firmware declares, with a scripted broker on `net`. */
function espruinoBoard(storage: Record<string, unknown>) {
  const log: string[] = [];
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let now = 0.05; // getTime() seconds since boot
  let nextId = 1;
  const written: Buffer[] = [];
  let sock: { handlers: Record<string, (x?: unknown) => void> } | null = null;
  const ctx: Record<string, unknown> = {};
  vm.createContext(ctx);
  const realm = vm.runInContext("({ Uint8Array })", ctx) as { Uint8Array: Uint8ArrayConstructor };
  const toStr = (b: Uint8Array) => Buffer.from(b).toString("latin1");
  Object.assign(ctx, {
    getTime: () => now,
    setTimeout: (fn: () => void, ms: number) => { const id = nextId++; timers.push({ at: now + ms / 1000, fn, id }); return id; },
    clearTimeout: (id: number) => { const i = timers.findIndex((t) => t.id === id); if (i >= 0) timers.splice(i, 1); },
    E: {
      toString: (a: Uint8Array) => toStr(a),
      toUint8Array: (s: string) => { const b = Buffer.from(s, "latin1"); const u = new realm.Uint8Array(b.length); u.set(b); return u; },
      on: (ev: string) => log.push("E.on " + ev),
      reboot: () => log.push("reboot"),
    },
    pinMode: (pin: number, mode: string) => log.push(`pinMode ${pin} ${mode}`),
    digitalWrite: (pin: number, v: number) => log.push(`digitalWrite ${pin} ${v}`),
    setWatch: (_fn: unknown, pin: number, o: { repeat: boolean; edge: string }) => { log.push(`setWatch ${pin} ${o.edge} ${o.repeat}`); return 9; },
    clearWatch: (id: number) => log.push("clearWatch " + id),
    getSerial: () => "30aea40b-1c2d",
    process: { memory: () => ({ free: 8000, usage: 4000, total: 12000 }) },
    console: { log: (m: string) => log.push("console " + m) },
    require: (name: string) => {
      if (name === "Storage") {
        return {
          readJSON: (n: string) => storage[n], writeJSON: (n: string, v: unknown) => { storage[n] = JSON.parse(JSON.stringify(v)); }, erase: (n: string) => { delete storage[n]; },
          // the spill's calls (no spill files: nothing to read back, plenty of room)
          list: () => [], getFree: () => 800_000, compact: () => undefined, open: () => ({ write: () => undefined, readLine: () => undefined, erase: () => undefined }),
        };
      }
      // crypto.SHA256 as the ESP32 build has it: bytes in, an ArrayBuffer of the digest out
      if (name === "crypto") return { SHA256: (d: Uint8Array) => { const h = createHash("sha256").update(d).digest(); const u = new realm.Uint8Array(32); u.set(h); return u.buffer; } };
      if (name === "TelnetServer") return { setOptions: (o: unknown) => log.push("telnet " + JSON.stringify(o)) };
      if (name === "Wifi") return { connect: () => log.push("wifi.connect"), on: (ev: string) => log.push("wifi.on " + ev), getIP: () => ({ ip: "10.1.2.3" }), setSNTP: (s: string) => log.push("sntp " + s) };
      if (name === "net") {
        return {
          connect: (o: { host: string; port: number }, cb: () => void) => {
            log.push(`net.connect ${o.host}:${o.port}`);
            const handlers: Record<string, (x?: unknown) => void> = {};
            sock = { handlers };
            timers.push({ at: now + 0.01, fn: cb, id: nextId++ });
            return { on: (ev: string, fn: (x?: unknown) => void) => { handlers[ev] = fn; }, write: (s: string) => { written.push(Buffer.from(s, "latin1")); }, end: () => log.push("net.end") };
          },
        };
      }
      throw new Error("Module " + name + " not found");
    },
  });
  const advance = (seconds: number) => {
    const end = now + seconds;
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const t = timers[0];
      if (!t || t.at > end) break;
      timers.shift();
      now = Math.max(now, t.at);
      t.fn();
    }
    now = end;
  };
  const packets = () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const out: mqttPacket.Packet[] = [];
    parser.on("packet", (p) => out.push(p));
    parser.parse(Buffer.concat(written));
    return out;
  };
  const feed = (p: mqttPacket.Packet) => sock!.handlers.data(mqttPacket.generate(p).toString("latin1"));
  return { ctx, log, advance, packets, feed };
}

describe("dist/firmware.js on a board offering exactly the listed Espruino APIs", () => {
  it("boots, switches telnet off, connects with its will, goes online, answers a command and publishes a reading", () => {
    const storage: Record<string, unknown> = { "espdht.json": { root: "espdht/b", broker: { host: "10.0.0.9", port: 1883 } } };
    const b = espruinoBoard(storage);
    vm.runInContext(min, b.ctx, { filename: "firmware.js" });
    expect(b.log).toContain('telnet {"mode":"off"}');
    expect(b.log).toContain("E.on init");
    expect(storage["espdht.boot"]).toBe(1);
    b.advance(0.05);
    expect(b.log).toContain("net.connect 10.0.0.9:1883");
    const connect = b.packets()[0] as mqttPacket.IConnectPacket;
    expect(connect).toMatchObject({ cmd: "connect", clientId: "esp32-30aea40b1c2d", clean: false, will: { topic: "espdht/b/esp32-30aea40b1c2d/status", qos: 1, retain: true } });
    expect(connect.will!.payload.toString()).toBe("offline");
    b.feed({ cmd: "connack", returnCode: 0, sessionPresent: false });
    b.advance(0.1);
    const after = b.packets();
    const subs = after.filter((p) => p.cmd === "subscribe") as mqttPacket.ISubscribePacket[];
    expect(subs.flatMap((s) => s.subscriptions.map((x) => x.topic)).sort()).toEqual(["espdht/b/all/cmd", "espdht/b/esp32-30aea40b1c2d/cmd"]);
    const pubs = after.filter((p) => p.cmd === "publish") as mqttPacket.IPublishPacket[];
    expect(pubs.map((p) => [p.topic, String(p.payload).slice(0, 7), p.retain])).toEqual([
      ["espdht/b/esp32-30aea40b1c2d/status", "online", true],
      ["espdht/b/esp32-30aea40b1c2d/info", '{"v":1,', true],
    ]);
    b.feed({ cmd: "publish", topic: "espdht/b/all/cmd", payload: Buffer.from('{"id":"k","op":"ping"}'), qos: 0, retain: false, dup: false });
    b.advance(0.1);
    const reply = (b.packets().filter((p) => p.cmd === "publish") as mqttPacket.IPublishPacket[]).find((p) => p.topic.endsWith("/reply"))!;
    expect(JSON.parse(String(reply.payload))).toMatchObject({ re: "k", ok: true });
    // no sensor answers the start pulse: after the retries a typed error reading is published
    b.advance(8);
    expect(b.log).toContain("pinMode 4 output");
    expect(b.log).toContain("digitalWrite 4 0");
    expect(b.log).toContain("setWatch 4 falling true");
    expect(b.log).toContain("pinMode 4 input_pullup");
    const reading = (b.packets().filter((p) => p.cmd === "publish") as mqttPacket.IPublishPacket[]).find((p) => p.topic.endsWith("/reading"))!;
    expect(JSON.parse(String(reading.payload))).toMatchObject({ id: "esp32-30aea40b1c2d", boot: 1, seq: 0, ts: null, error: "timeout" });
  });
});

describe("dist/firmware.js with a key", () => {
  const key = "5a".repeat(32);
  const hmac = (data: string) => createHmac("sha256", Buffer.from(key, "hex")).update(data).digest("hex");

  it("connects under the keyed client id, signs its messages and refuses an unsigned command", () => {
    const storage: Record<string, unknown> = { "espdht.json": { root: "espdht/b", broker: { host: "10.0.0.9", port: 1883 }, key } };
    const b = espruinoBoard(storage);
    vm.runInContext(min, b.ctx, { filename: "firmware.js" });
    b.advance(0.05);
    const connect = b.packets()[0] as mqttPacket.IConnectPacket;
    expect(connect.clientId).toBe("d-" + hmac("client-id").slice(0, 24));
    b.feed({ cmd: "connack", returnCode: 0, sessionPresent: false });
    b.advance(0.1);
    b.feed({ cmd: "publish", topic: "espdht/b/esp32-30aea40b1c2d/cmd", payload: Buffer.from('{"id":"k","op":"ping"}'), qos: 0, retain: false, dup: false });
    b.advance(8);
    const pubs = (b.packets().filter((p) => p.cmd === "publish") as mqttPacket.IPublishPacket[]).filter((p) => !p.topic.endsWith("/status"));
    expect(pubs.map((p) => p.topic.split("/").pop())).toEqual(["info", "reply", "reading"]);
    for (const p of pubs) {
      const text = String(p.payload);
      const body = text.slice(0, -42);
      expect(text.slice(-42)).toBe(',"sig":"' + hmac(p.topic + "\n" + body).slice(0, 32) + '"}');
    }
    expect(JSON.parse(String(pubs[1].payload))).toMatchObject({ re: "k", ok: false, error: "unsigned" });
  });
});
