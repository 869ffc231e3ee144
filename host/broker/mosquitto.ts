// A Mosquitto of our own on loopback, for benchmarks and tests: spawned on a free port with a generated
// config (anonymous, no persistence) and stopped afterwards, its temporary folder removed.
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface LocalMosquitto {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
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

/** Starts Mosquitto 2 on a free loopback port, `extraConfig` lines appended; retries on another port when the chosen one is taken. */
export async function startMosquitto(extraConfig: string[] = []): Promise<LocalMosquitto> {
  const bin = mosquittoBinary();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-mosq-"));
    const conf = path.join(dir, "mosquitto.conf");
    fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", "log_dest stderr", "log_type error", "max_queued_messages 100000", ...extraConfig, ""].join("\n"));
    const child = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr += d; });
    try {
      await waitForPort(port, 15_000, child);
      return {
        host: "127.0.0.1",
        port,
        url: `mqtt://127.0.0.1:${port}`,
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
