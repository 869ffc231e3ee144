// Starts bench/ingestPublisher.ts in a child process (its own event loop, like real devices) and waits.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface PublishArgs {
  url: string;
  root: string;
  publishers: number;
  devicesPerPublisher: number;
  perDevice: number;
  qos: 0 | 1;
  /** readings/s over all publishers; 0 = as fast as possible */
  rate: number;
  tag: string;
  boot?: number;
}

export function publishReadings(args: PublishArgs): Promise<{ published: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(HERE, "ingestPublisher.ts"), JSON.stringify(args)], {
      cwd: path.join(HERE, ".."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`publisher exited with ${code}`))));
  });
}
