// Measures the simulator in the browser against the CLI on one scenario (default unclean-election: 60 simulated
// seconds): the CLI's own wall time for the run (`kafkasim run NAME --json`, stats.wallMs, median of N runs) and the
// browser's (headless Chromium through `kafkasim view`'s server: the Web Worker's time for the same run, and the
// page's time from pressing run to the trace on screen), with the ratio. Also checks the two trace hashes agree.
//
//   node --import tsx scripts/browser-sim-bench.ts [--scenario NAME] [--runs N] [--json]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startViewServer, webRoot } from "../src/cli/view-command.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const scenario = option("--scenario") ?? "unclean-election";
const runs = Number(option("--runs") ?? 5);
const json = args.includes("--json");
const ROOT = new URL("..", import.meta.url).pathname;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const cli: number[] = [];
let cliHash = "";
let simulatedMs = 0;
for (let i = 0; i < runs; i++) {
  const result = spawnSync(process.execPath, [join(ROOT, "bin/kafkasim.js"), "run", scenario, "--json"], { encoding: "utf8" });
  const summary = JSON.parse(result.stdout) as { stats: { wallMs: number; traceHash: string; simulatedMs: number } };
  cli.push(summary.stats.wallMs);
  cliHash = summary.stats.traceHash;
  simulatedMs = summary.stats.simulatedMs;
}

const server = await startViewServer(webRoot(), null, 0);
const port = (server.address() as { port: number }).port;
const browser = await chromium.launch({ executablePath: process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
const worker: number[] = [];
const page: number[] = [];
let browserHash = "";
try {
  const tab = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await tab.goto(`http://127.0.0.1:${port}/`);
  await tab.waitForSelector(`#scenario option[value='${scenario}']`, { state: "attached" });
  await tab.selectOption("#scenario", scenario);
  for (let i = 0; i < runs; i++) {
    const started = Date.now();
    await tab.click("#run");
    await tab.waitForFunction((n) => (window as unknown as { kafkasimRuns?: number }).kafkasimRuns === n, i + 1, { timeout: 300_000 });
    page.push(Date.now() - started);
    const summary = await tab.evaluate(() => (window as unknown as { kafkasimLastRun: { summary: { wallMs: number; traceHash: string } } }).kafkasimLastRun.summary);
    worker.push(summary.wallMs);
    browserHash = summary.traceHash;
  }
} finally {
  await browser.close();
  server.close();
}

const report = {
  scenario,
  simulatedMs,
  runs,
  cliWallMs: median(cli),
  browserWorkerMs: Math.round(median(worker)),
  browserPageMs: median(page),
  ratioWorker: Number((median(worker) / median(cli)).toFixed(2)),
  ratioPage: Number((median(page) / median(cli)).toFixed(2)),
  sameHash: cliHash === browserHash,
};
if (json) process.stdout.write(JSON.stringify(report) + "\n");
else
  process.stdout.write(
    `${scenario} (${simulatedMs / 1000} simulated s), median of ${runs}: CLI ${report.cliWallMs} ms; browser worker ${report.browserWorkerMs} ms (×${report.ratioWorker}), ` +
      `page from run to trace on screen ${report.browserPageMs} ms (×${report.ratioPage}); trace hashes ${report.sameHash ? "equal" : "DIFFER"}\n`,
  );
