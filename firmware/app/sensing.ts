// Sensing, the first half of the one-way flow: DHT reader -> offsets -> report filter -> reading buffer.
// One cycle per interval; each reading that passes the filter is stored (with the next seq) and `onStored` told.
import type { DeviceConfig } from "../contract/deviceConfig";
import type { ReadError } from "../contract/payloads";
import { createDhtReader } from "../dht/dhtReader";
import { READ_ATTEMPTS } from "../dht/dhtTiming";
import { Hal, TimerHandle, UNIX_2020_S, uptimeMs } from "../hal/hal";
import type { BufferedReading, ReadingBuffer } from "./readingBuffer";
import { LastReport, shouldReport } from "./reportFilter";

export interface Sensing {
  /** the first read (the reader waits out the sensor's power-up), then one cycle per interval */
  start_(): void;
  /** restarts the interval timer (after `set` changed the interval) */
  reschedule_(): void;
  /** reads now, or joins the running cycle, and stores that reading whatever the filter says; `done` gets it */
  readNow_(done: (stored: BufferedReading) => void): void;
}

/** `sensed` hears every read (offset-corrected, in hundredths), before the report filter: the thermostat's own source. */
export function createSensing(hal: Hal, config: DeviceConfig, buffer: ReadingBuffer, onStored: () => void, sensed?: (t: number, h: number, error?: ReadError) => void): Sensing {
  const reader = createDhtReader(hal, config.pin, hal.clock_, config.model, READ_ATTEMPTS);
  let last: LastReport | undefined;
  let loop: TimerHandle;
  /** store the running cycle's reading whatever the filter says (a `read` command) */
  let forced: boolean;

  /** A DhtResult: a failed read has no values, t and h are then NaN; neither the filter nor the buffer looks at them. */
  const onRead = (r: { temperature?: number; humidity?: number; error?: ReadError; stored_?: BufferedReading }) => {
    const now = uptimeMs(hal.clock_);
    const error = r.error;
    // offset-corrected, in hundredths: what the buffer keeps and the filter compares
    const t = Math.round(((r.temperature as number) + config.tempOffset) * 100);
    // clamped: an offset must not push humidity out of 0..100 %, which hosts reject (NaN stays NaN)
    const h = Math.round(Math.min(Math.max((r.humidity as number) + config.humOffset, 0), 100) * 100);
    if (sensed) sensed(t, h, error);
    if (!forced && !shouldReport(config, last, now, t, h, error)) return;
    forced = false;
    last = { t, h, error, at: now };
    const wall = hal.time_();
    // kept on the result, which the reader hands to a waiting `read` right after: not kept after the cycle
    r.stored_ = buffer.push_(now, wall > UNIX_2020_S ? Math.round(wall * 1000) : 0, t, h, error);
    onStored();
  };

  const schedule = () => {
    if (loop) hal.clock_.clearTimeout(loop);
    loop = hal.clock_.setTimeout(() => {
      loop = 0;
      schedule();
      // one sensing cycle; a tick while a cycle runs (slow retries) joins it: the reader calls onRead once
      reader(onRead);
    }, config.interval * 1000);
  };

  return {
    start_() {
      reader(onRead);
      schedule();
    },
    reschedule_: schedule,
    readNow_(done) {
      forced = true;
      reader(onRead);
      // the reader serves this caller right after onRead, with the same result
      reader((r) => done((r as unknown as { stored_: BufferedReading }).stored_));
    },
  };
}
