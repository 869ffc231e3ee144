// A Mosquitto of our own on loopback, for benchmarks and tests: spawned on a free port with a generated
// config (anonymous, no persistence; or TLS, WebSocket listeners, a password file and an ACL; or a whole config
// given) and stopped afterwards, its temporary folder removed.
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface LocalMosquitto {
  host: string;
  port: number;
  url: string;
  /** the TLS listener's port and mqtts:// URL, with `tls` */
  tlsPort: number | null;
  tlsUrl: string | null;
  /** with `websockets`: the MQTT-over-WebSocket listener's port and ws:// URL, and with `tls` also the wss:// one */
  wsPort: number | null;
  wsUrl: string | null;
  wssPort: number | null;
  wssUrl: string | null;
  /** copies the password and ACL files again and makes Mosquitto re-read them (SIGHUP), as `systemctl reload` does */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface MosquittoOptions {
  /** a second listener with TLS on its own free port (PEM files) */
  tls?: { cafile: string; certfile: string; keyfile: string };
  /** a WebSocket listener on its own free port (and with `tls`, a TLS WebSocket one too) */
  websockets?: boolean;
  /** logins: Mosquitto's password file (anonymous clients are then refused) */
  passwordFile?: string;
  aclFile?: string;
  /** the whole config instead of the generated one, given the ports chosen, where the password and ACL files were copied and a folder for persistence */
  config?: (at: { port: number; tlsPort: number; passwordFile: string; aclFile: string; persistenceDir: string }) => string;
}

/** Mosquitto started as root drops to the `mosquitto` user, which must read the files it loads after that. */
function handToBroker(file: string, mode = 0o600): void {
  fs.chmodSync(file, mode);
  if (process.getuid?.() !== 0) return;
  const line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("mosquitto:"));
  if (line) fs.chownSync(file, Number(line.split(":")[2]), Number(line.split(":")[3]));
}

/** A loopback port nobody listens on right now (another process may still take it before we do). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function mosquittoBinary(): string {
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) if (fs.existsSync(p)) return p;
  throw new Error("mosquitto is not installed (apt-get install -y mosquitto)");
}

function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`mosquitto exited with code ${child.exitCode}`));
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => { s.destroy(); resolve(); });
      s.once("error", () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Starts Mosquitto 2 on a free loopback port, `extraConfig` lines appended; retries on other ports when a chosen one is taken. */
export async function startMosquitto(extraConfig: string[] = [], opts: MosquittoOptions = {}): Promise<LocalMosquitto> {
  const bin = mosquittoBinary();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const tlsPort = opts.tls || opts.config ? await freePort() : 0;
    const wsPort = opts.websockets && !opts.config ? await freePort() : 0;
    const wssPort = wsPort && opts.tls ? await freePort() : 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-mosq-"));
    // the broker's user goes through it to the copies of the password and ACL files
    fs.chmodSync(dir, 0o711);
    const conf = path.join(dir, "mosquitto.conf");
    const passwd = path.join(dir, "passwd");
    const acl = path.join(dir, "acl");
    const copyLogins = () => {
      if (opts.passwordFile) { fs.copyFileSync(opts.passwordFile, passwd); handToBroker(passwd); }
      if (opts.aclFile) { fs.copyFileSync(opts.aclFile, acl); handToBroker(acl); }
    };
    copyLogins();
    const persistenceDir = path.join(dir, "data");
    fs.mkdirSync(persistenceDir);
    handToBroker(persistenceDir, 0o700);
    const lines = [`listener ${port} 127.0.0.1`, "persistence false", "log_dest stderr", "log_type error", "max_queued_messages 100000"];
    if (opts.tls) lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${opts.tls.cafile}`, `certfile ${opts.tls.certfile}`, `keyfile ${opts.tls.keyfile}`);
    // Debian's 2.0.11 opens a websockets listener only beside a plain one (above) and ignores its address (binds
    // every interface) unless socket_domain ipv4 is set: with it, 127.0.0.1 only (ss -ltnp), where tests connect
    if (wsPort) lines.push(`listener ${wsPort} 127.0.0.1`, "protocol websockets", "socket_domain ipv4");
    if (wssPort) lines.push(`listener ${wssPort} 127.0.0.1`, "protocol websockets", "socket_domain ipv4", `cafile ${opts.tls!.cafile}`, `certfile ${opts.tls!.certfile}`, `keyfile ${opts.tls!.keyfile}`);
    lines.push(opts.passwordFile ? "allow_anonymous false" : "allow_anonymous true");
    if (opts.passwordFile) lines.push(`password_file ${passwd}`);
    if (opts.aclFile) lines.push(`acl_file ${acl}`);
    fs.writeFileSync(conf, opts.config ? opts.config({ port, tlsPort, passwordFile: passwd, aclFile: acl, persistenceDir: persistenceDir + "/" }) : [...lines, ...extraConfig, ""].join("\n"));
    const child = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr += d; });
    try {
      await waitForPort(port, 15_000, child);
      if (tlsPort) await waitForPort(tlsPort, 15_000, child);
      if (wsPort) await waitForPort(wsPort, 15_000, child);
      if (wssPort) await waitForPort(wssPort, 15_000, child);
      return {
        host: "127.0.0.1",
        port,
        url: `mqtt://127.0.0.1:${port}`,
        tlsPort: tlsPort || null,
        tlsUrl: tlsPort ? `mqtts://127.0.0.1:${tlsPort}` : null,
        wsPort: wsPort || null,
        wsUrl: wsPort ? `ws://127.0.0.1:${wsPort}` : null,
        wssPort: wssPort || null,
        wssUrl: wssPort ? `wss://127.0.0.1:${wssPort}` : null,
        reload: async () => {
          copyLogins();
          child.kill("SIGHUP");
          // Mosquitto re-reads them in its main loop
          await new Promise((r) => setTimeout(r, 300));
        },
        close: () => new Promise<void>((resolve) => {
          const removeDir = () => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); };
          if (child.exitCode !== null) return removeDir();
          child.once("exit", removeDir);
          child.kill("SIGTERM");
        }),
      };
    } catch (e) {
      lastError = new Error(`${(e as Error).message}: ${stderr.trim()}`);
      child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  throw lastError;
}
