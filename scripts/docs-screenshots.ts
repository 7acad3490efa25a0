// Takes the docs' screenshots of the viewer in headless Chromium (through `kafkasim view`'s server, the scenario run
// in the page): docs/images/viewer-glance.png (kip-101-data-loss as it opens, legend unfolded),
// docs/images/tour-stop.png (the KIP-101 tour at the truncation) and docs/images/whatif-branches.png (broker-2's
// crash dragged into the settle phase, re-run, compared with the original).
//
//   npm run build && node --import tsx scripts/docs-screenshots.ts
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startViewServer, webRoot } from "../src/cli/view-command.ts";
import { dragFaultSlider } from "../test/web/chromium.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const out = join(ROOT, "docs", "images");
mkdirSync(out, { recursive: true });
const server = await startViewServer(webRoot(), null, 0);
const port = (server.address() as { port: number }).port;
const browser = await chromium.launch({ executablePath: process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`http://127.0.0.1:${port}/?scenario=kip-101-data-loss&run`);
  await page.waitForFunction(() => document.body.dataset.traceHash !== undefined, undefined, { timeout: 120_000 });
  await page.click("#legend > summary");
  await page.screenshot({ path: join(out, "viewer-glance.png") });
  await page.click("#legend > summary");

  await page.click("#tour-next");
  for (let i = 0; i < 5; i++) await page.click("#tour-next");
  await page.screenshot({ path: join(out, "tour-stop.png") });

  await dragFaultSlider(page, "crash broker-2", 13_000, 46_000);
  await page.click("#whatif-run");
  await page.waitForSelector("#whatif li.branch[data-branch='1'][data-verdict='not-met']", { timeout: 120_000 });
  await page.click("#whatif a.branch-compare[data-branch='1']");
  await page.screenshot({ path: join(out, "whatif-branches.png") });
  process.stdout.write(`docs-screenshots: ${out}/viewer-glance.png, tour-stop.png, whatif-branches.png\n`);
} finally {
  await browser.close();
  server.close();
}
