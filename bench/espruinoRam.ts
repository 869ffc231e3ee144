// The firmware's RAM as users get it: JsVars used after the bundle is written to Storage `.bootcde` and run from
// there, on the real Espruino interpreter (EspruinoWebIDE's emscripten build, which you fetch yourself: it is not
// part of espdht and nothing in CI depends on it). How: docs/espruino.md "Measuring RAM".
//   npx tsx bench/espruinoRam.ts --emu DIR [--bundle dist/firmware.js] [--rounds 5] [--idle 10]
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { parseArgs } from "node:util";

const HELP = `Usage: npx tsx bench/espruinoRam.ts --emu DIR [options]

Measures the JsVars the firmware uses on Espruino, run from Storage as 'espdht flash' leaves it, in two
situations: Wi-Fi never joins, and Wi-Fi up with the broker refusing connections (the board offline, buffering).

  --emu DIR        folder with emu_banglejs2.js, common.js, emulator_banglejs2.js from EspruinoWebIDE's emu/
  --bundle FILE    the firmware bundle (default: dist/firmware.js)
  --rounds N       measurements per situation, each on a fresh interpreter (default: 5)
  --features LIST  messaging features the board uses: all, none (default), or a list of groups (2 groups),
                   links (a link each way), rule (a thermostat rule on a linked peer)
  --idle SECONDS   how long the firmware runs before the second reading of process.memory() (default: 17,
                   between two of its 10 s DHT reads: at 10 a read in progress adds 30-40 JsVars to some rounds)
  -h, --help       show this help`;

const EMU_FILES = ["emu_banglejs2.js", "common.js", "emulator_banglejs2.js"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Emulator { send(line: string): void; ask(expr: string): Promise<string>; idle(seconds: number): Promise<string[]> }

/** One fresh interpreter in its own vm context; its console lines are collected. */
async function startEmulator(emuDir: string): Promise<Emulator> {
  const lines: string[] = [];
  const ctx: Record<string, unknown> = {
    console, setTimeout, clearTimeout, process, TextDecoder, TextEncoder, performance, WebAssembly, URL, Buffer,
    __dirname: emuDir, __filename: path.join(emuDir, "emulator_banglejs2.js"), module: { exports: {} },
    require: (m: string) => (m === "fs" ? fs : m === "path" ? path : undefined),
    jsUpdateGfx() {},
    onConsoleOutput(l: string) { lines.push(l); },
  };
  ctx.globalThis = ctx;
  vm.createContext(ctx);
  for (const f of EMU_FILES) {
    vm.runInContext(fs.readFileSync(path.join(emuDir, f), "utf8"), ctx, { filename: f });
    ctx.jsRXCallback = undefined; // common.js posts every byte to a parent window that does not exist here
  }
  const mod = () => ctx.Module as { calledRun?: boolean };
  for (let i = 0; i < 400 && !mod().calledRun; i++) await sleep(50);
  if (!mod().calledRun) throw new Error(`the emulator in ${emuDir} did not start`);
  const call = (fn: string) => (ctx[fn] as () => void)();
  call("jsInit");
  call("jsIdle");
  await sleep(300);
  const send = (line: string) => {
    (ctx.jsTransmitString as (s: string) => void)("\x10" + line + "\n");
    call("jsIdle");
  };
  send("echo(0);");
  return {
    send,
    async ask(expr) {
      const tag = "@@" + Math.random().toString(36).slice(2);
      lines.length = 0;
      send(`print("${tag}"+(${expr}))`);
      for (let i = 0; i < 200; i++) {
        call("jsIdle");
        const l = lines.find((x) => x.includes(tag));
        if (l !== undefined) return l.slice(l.indexOf(tag) + tag.length);
        await sleep(20);
      }
      throw new Error(`the emulator did not answer ${expr}`);
    },
    async idle(seconds) {
      lines.length = 0;
      for (let t = 0; t < seconds * 10; t++) {
        call("jsIdle");
        await sleep(100);
      }
      return lines.slice();
    },
  };
}

/** Stubs for the ESP32 modules the bundle requires (the emulator is a Bangle.js build: no Wifi or net). */
function stubModules(wifiUp: boolean): string[] {
  const socket = "var h={};var s={on:function(e,f){h[e]=f;},write:function(){},end:function(){}};setTimeout(function(){if(h.error)h.error('ECONNREFUSED');if(h.close)h.close();},100);return s;";
  return [
    `Modules.addCached("Wifi",function(){exports.connect=function(s,o,cb){setTimeout(function(){cb(${wifiUp ? "null" : "'no AP found'"});},100);};exports.on=function(){};exports.getIP=function(){return {ip:"10.0.0.2",mac:"aa:bb:cc:dd:ee:ff"};};exports.setSNTP=function(){};exports.setHostname=function(){};});`,
    `Modules.addCached("net",function(){exports.connect=function(o,cb){${socket}};});`,
    `Modules.addCached("tls",function(){exports.connect=function(o,cb){${socket}};});`,
    `Modules.addCached("TelnetServer",function(){exports.setOptions=function(){};});`,
  ];
}

const DEVICE_CONFIG = {
  wifi: { ssid: "virtual", password: "virtual-pass" },
  broker: { host: "127.0.0.1", port: 1883, tls: false, username: null, password: null },
  root: "espdht/ram", interval: 10, model: "dht22", pin: 4, key: "ab".repeat(32),
};

/** the messaging features a measured board can use: two groups, a link each way (peer-a's readings arrive, ours go to peer-b), a thermostat rule on the peer */
const FEATURE_NAMES = ["groups", "links", "rule"] as const;
type Feature = (typeof FEATURE_NAMES)[number];
const GROUPS = ["kitchen", "floor1"];
const RULE = "temperature@peer-a>24<23:pin=5:minOn=60:safe=off";
const LINKS = { to: ["peer-b"], from: { "peer-a": "cd".repeat(32) } };

function parseFeatures(text: string | undefined): Feature[] {
  if (text === undefined || text === "none") return [];
  if (text === "all") return FEATURE_NAMES.slice();
  const out = text.split(",");
  for (const f of out) if (!(FEATURE_NAMES as readonly string[]).includes(f)) throw new Error(`--features ${text}: '${f}' is not one of all, none, ${FEATURE_NAMES.join(", ")}`);
  return out as Feature[];
}

async function measureOnce(emuDir: string, bundle: string, wifiUp: boolean, idleSeconds: number, features: Feature[]): Promise<{ jsVars: number; errors: string[] }> {
  const emu = await startEmulator(emuDir);
  for (const line of stubModules(wifiUp)) emu.send(line);
  const config = { ...DEVICE_CONFIG, ...(features.includes("groups") ? { groups: GROUPS } : {}), ...(features.includes("rule") ? { rule: RULE } : {}) };
  emu.send(`require("Storage").writeJSON("espdht.json",${JSON.stringify(config)});`);
  if (features.includes("links")) emu.send(`require("Storage").writeJSON("espdht.lnk",${JSON.stringify(LINKS)});`);
  // .bootcde in base64 chunks: the first write sizes the file, the others fill it at their offsets
  const b64 = Buffer.from(bundle, "latin1").toString("base64");
  const CHUNK = 768;
  for (let i = 0; i < b64.length; i += CHUNK) {
    const offset = (i / 4) * 3;
    emu.send(`require("Storage").write(".bootcde",atob("${b64.slice(i, i + CHUNK)}"),${offset}${i === 0 ? "," + bundle.length : ""});`);
  }
  const stored = Number(await emu.ask(`require("Storage").read(".bootcde").length`));
  if (stored !== bundle.length) throw new Error(`.bootcde holds ${stored} bytes, the bundle has ${bundle.length}`);
  const before = Number(await emu.ask("process.memory().usage"));
  emu.send(`eval(require("Storage").read(".bootcde"));`);
  const printed = await emu.idle(idleSeconds);
  const after = Number(await emu.ask("process.memory().usage"));
  return { jsVars: after - before, errors: printed.filter((l) => /Uncaught|Error/.test(l)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { emu: { type: "string" }, bundle: { type: "string", default: "dist/firmware.js" }, rounds: { type: "string", default: "5" }, features: { type: "string" }, idle: { type: "string", default: "17" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void console.log(HELP);
  if (!values.emu) throw new Error("--emu DIR is required (see --help)");
  for (const f of EMU_FILES) if (!fs.existsSync(path.join(values.emu, f))) throw new Error(`--emu ${values.emu}: ${f} is missing`);
  const rounds = Number(values.rounds);
  const idle = Number(values.idle);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: a whole number >= 1`);
  if (!(idle > 0)) throw new Error(`--idle ${values.idle}: seconds > 0`);
  const features = parseFeatures(values.features);
  const bundle = fs.readFileSync(values.bundle, "latin1");
  console.log(`${values.bundle}: ${bundle.length} bytes; ${rounds} rounds, ${idle} s idle each; features in use: ${features.join(", ") || "none"}`);
  const results: Record<string, number[]> = { "wifi down": [], "broker refused (offline, buffering)": [] };
  for (let r = 0; r < rounds; r++) {
    // the two situations alternate, each on a fresh interpreter
    for (const [name, wifiUp] of [["wifi down", false], ["broker refused (offline, buffering)", true]] as const) {
      const m = await measureOnce(values.emu, bundle, wifiUp, idle, features);
      if (m.errors.length) throw new Error(`${name}: the firmware printed ${m.errors.join(" | ")}`);
      results[name].push(m.jsVars);
      process.stderr.write(`round ${r + 1}/${rounds} ${name}: ${m.jsVars} JsVars\n`);
    }
  }
  for (const [name, xs] of Object.entries(results)) {
    const s = xs.slice().sort((a, b) => a - b);
    console.log(`${name}: median ${s[Math.floor(s.length / 2)]} JsVars (min ${s[0]}, max ${s[s.length - 1]}; 14 bytes each)`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`espruinoRam: ${(e as Error).message}`);
  process.exit(1);
});
