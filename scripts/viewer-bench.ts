// Measures the web viewer in headless Chromium on a large trace: the time from navigation to a usable page
// (fetch, parse, index, state timeline), and the latency of a seek (state at the new position, inspector
// render, diagram redraw) over random positions. Also takes screenshots for the docs.
//
//   node --import tsx scripts/viewer-bench.ts [--events N] [--trace FILE] [--json]
//   node --import tsx scripts/viewer-bench.ts --screenshot docs/viewer.png   (the docs' picture, kip-101)
//
// Without --trace it generates a trace of the standard-sized cluster (3 ZooKeeper, 5 brokers, 12 partitions
// RF 3, three idempotent producers, the safe-chaos faults) and cuts it at N events (default 1,000,000).
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startViewServer, webRoot } from "../src/cli/view-command.ts";
import { parseScenarioText, validateScenario } from "../src/scenario/load.ts";
import { runScenario } from "../src/scenario/run.ts";
import type { TraceSink } from "../src/sim/trace.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const json = args.includes("--json");
const screenshot = option("--screenshot");
const maxEvents = Number(option("--events") ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "kafkasim-viewer-bench-"));

function traceOf(spec: Record<string, unknown>, file: string, limit: number): Promise<void> {
  const out = createWriteStream(file);
  let lines = 0;
  const sink: TraceSink = {
    write(line) {
      if (lines++ <= limit) out.write(line + "\n");
    },
  };
  runScenario(validateScenario(spec, `${String(spec.name)}.json`), { sinks: [sink] });
  return new Promise((resolve) => out.end(resolve));
}

function scenario(name: string): Record<string, unknown> {
  return parseScenarioText(readFileSync(new URL(`../scenarios/${name}.json`, import.meta.url), "utf8"), `${name}.json`) as Record<string, unknown>;
}

let trace = option("--trace");
if (trace === undefined) {
  trace = join(dir, screenshot !== undefined ? "kip-101.jsonl" : "big.jsonl");
  if (screenshot !== undefined) {
    await traceOf(scenario("kip-101-data-loss"), trace, Infinity);
  } else {
    const spec = scenario("safe-chaos");
    spec.name = "viewer-bench";
    (spec.cluster as Record<string, unknown>).brokers = 5;
    spec.topics = [{ name: "t", partitions: 12, replicationFactor: 3, config: { "min.insync.replicas": 2 } }];
    spec.clients = [1, 2, 3].map((i) => ({
      id: `p${i}`,
      type: "producer",
      config: { acks: "all", "enable.idempotence": true, "request.timeout.ms": 5000 },
      workload: { topic: "t", messages: 100000, ratePerSec: 700, keys: 200, startAt: "2s" },
    }));
    await traceOf(spec, trace, maxEvents);
  }
}

const server = await startViewServer(webRoot(), trace, 0);
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/?trace=/trace.jsonl`;
const browser = await chromium.launch({
  executablePath: process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1700, height: 1000 } });
  if (screenshot !== undefined) {
    // kip-101-data-loss just after broker-3 truncated to its stale high watermark.
    const events = readFileSync(trace, "utf8").split("\n").slice(1).filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const i = events.findIndex((e) => e.kind === "replica-truncate" && e.node === "broker-3" && Number(e.offset) > 0);
    await page.goto(`${base}#i=${i + 1}`);
    await page.waitForSelector("body[data-ready]");
    await page.evaluate(() => (window as unknown as { kafkasimViewer: { timeline: { zoomTo(a: number, b: number): void } } }).kafkasimViewer.timeline.zoomTo(3_000_000, 22_000_000));
    await page.waitForTimeout(200);
    await page.screenshot({ path: screenshot });
    process.stdout.write(`screenshot written to ${screenshot}\n`);
  } else {
    const started = performance.now();
    await page.goto(base);
    await page.waitForSelector("body[data-ready]", { timeout: 120000 });
    const openMs = performance.now() - started;
    const result = await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { index: { events: unknown[] }; seek(i: number): void; timeline: { draw(): void } } }).kafkasimViewer;
      const n = viewer.index.events.length;
      const times: number[] = [];
      let x = 12345;
      for (let k = 0; k < 60; k++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const t0 = performance.now();
        viewer.seek(x % n);
        viewer.timeline.draw();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return { events: n, loadMs: Number(document.body.dataset.loadMs), seekMedianMs: times[30], seekP95Ms: times[57], seekMaxMs: times[59] };
    });
    const report = { ...result, openMs: Math.round(openMs), traceMb: Math.round(readFileSync(trace).length / 1e6) };
    if (json) process.stdout.write(JSON.stringify(report) + "\n");
    else {
      process.stdout.write(
        `viewer: ${report.events.toLocaleString()} events (${report.traceMb} MB): open ${(report.openMs / 1000).toFixed(2)} s (parse + index + state ${(report.loadMs / 1000).toFixed(2)} s); ` +
          `seek + inspector + redraw: median ${report.seekMedianMs.toFixed(1)} ms, p95 ${report.seekP95Ms.toFixed(1)} ms, max ${report.seekMaxMs.toFixed(1)} ms\n`,
      );
    }
  }
} finally {
  await browser.close();
  server.close();
}
rmSync(dir, { recursive: true, force: true });
