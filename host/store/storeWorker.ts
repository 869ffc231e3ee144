// Worker-thread entry of WorkerStore: owns the writing connection and applies requests in order.
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./openDatabase";
import { StoreWriter } from "./storeWriter";
import type { StoreRequest, StoreResponse } from "./workerProtocol";

const port = parentPort!;
const db = openDatabase((workerData as { dir: string }).dir);
const writer = new StoreWriter(db);

function reply(r: StoreResponse): void {
  port.postMessage(r);
}

port.on("message", (m: StoreRequest) => {
  try {
    switch (m.kind) {
      case "batch": {
        const inserted = writer.writeBatch(m.rows, m.seen);
        reply({ kind: "ack", serial: m.serial, rows: m.rows.n, inserted });
        break;
      }
      case "status":
        writer.setStatus(m.id, m.online, m.at);
        break;
      case "info":
        writer.setInfo(m.id, m.info, m.at);
        break;
      case "retention":
        writer.deleteBefore(m.cutoff);
        break;
      case "sync":
        reply({ kind: "ack", serial: m.serial, rows: 0, inserted: 0 });
        break;
      case "close":
        db.close();
        reply({ kind: "closed" });
        port.close();
        break;
    }
  } catch (e) {
    reply({ kind: "error", message: (e as Error).message, serial: "serial" in m ? m.serial : undefined });
  }
});
