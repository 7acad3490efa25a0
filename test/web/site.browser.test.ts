/**
 * The static site (`npm run build:site`) in a real browser, served by a plain static file server (no kafkasim
 * code on the server side): pick kip-101-data-loss, run it in the page's Web Worker, and check that the trace
 * hash equals the one `kafkasim run` computes; the docs pages are there and link to each other. Without chromium
 * it skips, unless KAFKASIM_REQUIRE_BROWSER is set (CI sets it).
 */

import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import type { Browser, Page } from "playwright-core";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink } from "../../src/sim/trace.ts";
import { scenarioFile } from "../scenario/helpers.ts";
import { CHROMIUM, dragFaultSlider, launchChromium } from "./chromium.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const TYPES: Record<string, string> = { ".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".json": "application/json", ".png": "image/png" };

/** Any static file host: files under `root`, nothing else. */
export function staticServer(root: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent((request.url ?? "/").split("?")[0]));
    const file = join(root, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Builds the site into a temporary folder (web/dist must be built: npm test builds first). */
export function buildSite(): string {
  const out = join(mkdtempSync(join(tmpdir(), "kafkasim-site-")), "site");
  const result = spawnSync(process.execPath, [join(ROOT, "scripts/build-site.mjs"), out], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`build-site failed: ${result.stderr}`);
  return out;
}

describe("the static site in a real browser", function () {
  this.timeout(180_000);
  let browser: Browser;
  let server: Server;
  let page: Page;
  let base = "";
  const errors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.KAFKASIM_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      this.skip();
    }
    mkdirSync(join(ROOT, "artifacts"), { recursive: true });
    const site = buildSite();
    server = await staticServer(site);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on("pageerror", (error) => errors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it("runs kip-101-data-loss in the page with the CLI's trace hash", async () => {
    await page.goto(base);
    await page.waitForSelector("#scenario option[value='kip-101-data-loss']", { state: "attached" });
    // The library is grouped as `kafkasim list` groups it.
    const groups = await page.$$eval("#scenario optgroup", (nodes) => nodes.map((node) => node.getAttribute("label")));
    expect(groups).to.have.length(3);
    await page.selectOption("#scenario", "kip-101-data-loss");
    await page.click("#run");
    await page.waitForFunction(() => document.body.dataset.traceHash !== undefined && document.body.dataset.ready === "true", undefined, { timeout: 120_000 });
    const browserHash = await page.getAttribute("body", "data-trace-hash");
    const scenario = validateScenario(scenarioFile("kip-101-data-loss"), "kip-101-data-loss.json");
    const cliHash = runScenario(scenario, { sinks: [new MemorySink()] }).stats.traceHash;
    expect(browserHash).to.equal(cliHash);
    expect(await page.textContent("#status")).to.contain("✓ expectation met");
    const violations = await page.evaluate(() => (window as unknown as { kafkasimViewer: { index: { violations: { name: string }[] } } }).kafkasimViewer.index.violations.map((v) => v.name));
    expect(violations).to.include("lost-write");
    expect(errors, "page errors").to.deep.equal([]);
  });

  it("a guided tour: next jumps to the event a stop talks about, rings it and focuses the inspector", async () => {
    await page.waitForSelector("#tour:not([hidden]) #tour-next");
    await page.click("#tour-next"); // start: stop 1 (no event)
    for (let i = 0; i < 5; i++) await page.click("#tour-next");
    expect(await page.getAttribute("#tour", "data-stop")).to.equal("5");
    expect(await page.textContent("#tour .tour-text")).to.contain("truncates its log to its own high watermark");
    const [cursor, expected] = await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { cursor: number; index: { events: { kind: string; node: string; offset?: number }[] } } }).kafkasimViewer;
      const truncate = viewer.index.events.findIndex((e) => e.kind === "log-truncate" && e.node === "broker-3" && e.offset === 149);
      return [viewer.cursor, truncate];
    });
    expect(cursor).to.equal(expected);
    expect(await page.$eval("#inspector", (node) => node.textContent ?? "")).to.contain("t-0");
    await page.screenshot({ path: join(ROOT, "artifacts", "tour-stop.png") });
  });

  it("what-if: moving broker-2's crash with the mouse and re-running makes a branch whose verdict changed", async () => {
    // The KIP-101 run of the test above is on screen, with its faults in the what-if panel.
    // Drag the thumb from 13 s into the settle phase (after the 40 s duration): the crash no longer happens.
    const moved = await dragFaultSlider(page, "crash broker-2", 13_000, 46_000);
    expect(moved).to.be.greaterThan(40_000);
    await page.click("#whatif-run");
    await page.waitForSelector("#whatif li.branch[data-branch='1'][data-verdict]:not([data-verdict=''])", { timeout: 120_000 });
    const verdicts = await page.$$eval("#whatif li.branch", (items) => items.map((item) => [item.getAttribute("data-branch"), item.getAttribute("data-verdict")]));
    expect(verdicts).to.deep.equal([
      ["0", "met"],
      ["1", "not-met"],
    ]);
    expect(await page.textContent("#whatif li.branch[data-branch='1']")).to.match(/moved the crash of broker-2 to 4\d(\.\d+)?s|moved the crash of broker-2 to 4\d+ms/);
    // Side by side with the original: lost-write only on the left, and where the traces part.
    await page.click("#whatif a.branch-compare[data-branch='1']");
    const comparison = await page.textContent("#whatif .comparison");
    expect(comparison).to.match(/lost-write\s*1\s*0/);
    expect(comparison).to.contain("They part at trace line");
    // The original opens again from the tree.
    await page.click("#whatif a.branch-open[data-branch='0']");
    await page.waitForSelector("#whatif li.branch.current[data-branch='0']");
    await page.screenshot({ path: join(ROOT, "artifacts", "whatif-branches.png") });
    expect(errors, "page errors").to.deep.equal([]);
  });

  it("exports the edited scenario as a link that runs it", async () => {
    await page.click("#whatif-link");
    await page.waitForSelector("#whatif[data-link]");
    const link = await page.getAttribute("#whatif", "data-link");
    expect(link).to.match(/#s=[A-Za-z0-9_-]+$/);
    const other = await browser.newPage();
    try {
      await other.goto(link!);
      await other.waitForFunction(() => document.body.dataset.traceHash !== undefined, undefined, { timeout: 120_000 });
      expect(await other.textContent("#status")).to.contain("kip-101-data-loss");
    } finally {
      await other.close();
    }
  });

  it("draws a long run's trace so far while it goes on, then the whole run", async () => {
    const other = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    try {
      await other.goto(`${base}?scenario=group-rebalance-tour&run`);
      await other.waitForFunction(() => document.body.dataset.traceHash !== undefined, undefined, { timeout: 120_000 });
      expect(Number(await other.getAttribute("body", "data-partial-draws")), "redraws while running").to.be.at.least(1);
      expect(await other.textContent("#status")).to.contain("✓ expectation met");
    } finally {
      await other.close();
    }
  });

  it("serves the docs pages, linked to each other and back to the simulator", async () => {
    await page.goto(`${base}docs/index.html`);
    expect(await page.title()).to.equal("kafkasim — kafkasim");
    await page.click("nav >> text=tutorial");
    await page.waitForURL(/docs\/tutorial\.html$/);
    expect(await page.textContent("h1")).to.match(/tutorial/i);
    const back = await page.getAttribute("nav a >> nth=0", "href");
    expect(back).to.equal("../index.html");
  });
});
