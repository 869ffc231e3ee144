// The browser tests' headless Chromium: Debian's package, never skipped when missing (the run fails instead).
import fs from "node:fs";
import { Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): the browser tests need it`);
  // starting a browser on 2 busy cores can take long
  return chromium.launch({ executablePath: CHROMIUM, args: ["--disable-gpu", "--disable-background-networking"], timeout: 60_000 });
}
