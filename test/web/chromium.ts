/** Debian's chromium driven by playwright-core, for the real-browser tests (KAFKASIM_CHROMIUM overrides the path). */

import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Drags the what-if panel's time slider of the fault whose label contains `fault` with the mouse, from `fromMs` to
 * `toMs` (the thumb's pixel position estimated from the slider's box and range); returns the slider's new value.
 */
export async function dragFaultSlider(page: Page, fault: string, fromMs: number, toMs: number): Promise<number> {
  const slider = page.locator("#whatif li", { hasText: fault }).locator("input.fault-time");
  const box = (await slider.boundingBox())!;
  const max = Number(await slider.getAttribute("max"));
  const at = (ms: number) => box.x + 8 + ((box.width - 16) * ms) / max;
  const y = box.y + box.height / 2;
  await page.mouse.move(at(fromMs), y);
  await page.mouse.down();
  await page.mouse.move(at((fromMs + toMs) / 2), y, { steps: 5 });
  await page.mouse.move(at(toMs), y, { steps: 5 });
  await page.mouse.up();
  return Number(await slider.inputValue());
}
