// The browser tests' headless Chromium: Debian's package, never skipped when missing (the run fails instead).
import fs from "node:fs";
import { Browser, chromium, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): the browser tests need it`);
  // starting a browser on 2 busy cores can take long
  return chromium.launch({ executablePath: CHROMIUM, args: ["--disable-gpu", "--disable-background-networking"], timeout: 60_000 });
}

/** Chromium with one 1280x900 page open at `url` (the dashboard tests' desktop view). */
export async function openPage(url: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  return { browser, page };
}
