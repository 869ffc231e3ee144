// Keeps the Wi-Fi link up: connects, retries with a growing delay (5 s to 60 s), reconnects after a drop.
import type { Clock, TimerHandle, Wifi } from "../hal/hal";

export const WIFI_RETRY_MIN_MS = 5000;
export const WIFI_RETRY_MAX_MS = 60000;

/**
 * Calls `onUp` at every connect. `cred` null: the board joins with credentials saved on it (Wifi.save()):
 * we only follow its events, and call `onUp` at once too (the link may already be up).
 */
export function keepWifiUp(wifi: Wifi, clock: Clock, cred: { ssid: string; password: string } | null, onUp: () => void, log: (m: string) => void): void {
  let delay = WIFI_RETRY_MIN_MS;
  let timer: TimerHandle;
  const retry = (why: unknown) => {
    log("wifi: " + why);
    if (timer || !cred) return;
    timer = clock.setTimeout(attempt, delay);
    delay = Math.min(delay * 2, WIFI_RETRY_MAX_MS);
  };
  const attempt = () => {
    timer = 0;
    if (cred) wifi.connect(cred.ssid, { password: cred.password }, (err) => { if (err) retry(err); });
    else onUp();
  };
  wifi.on("connected", () => {
    delay = WIFI_RETRY_MIN_MS;
    onUp();
  });
  wifi.on("disconnected", () => retry("disconnected"));
  attempt();
}
