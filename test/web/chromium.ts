/** Debian's chromium driven by playwright-core, for the real-browser tests (KAFKASIM_CHROMIUM overrides the path). */

import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
