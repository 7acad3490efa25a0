/**
 * The viewer in a real browser (Debian's chromium driven by playwright-core): loads the trace of a known-bug
 * scenario (KIP-101) through `kafkasim view`'s server, checks the lanes, the arrows, a violation marker and its
 * explanation, the inspector's high watermark at a given event, stepping back and forward, and saves a
 * screenshot in artifacts/. Without chromium it skips, unless KAFKASIM_REQUIRE_BROWSER is set (CI sets it).
 */

import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "./chromium.ts";
import { startViewServer, webRoot } from "../../src/cli/view-command.ts";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace } from "../../src/sim/trace.ts";
import { Timeline } from "../../web/src/state/index.ts";
import { scenarioFile } from "../scenario/helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
export const ARTIFACTS = join(ROOT, "artifacts");



describe("viewer in a real browser", function () {
  this.timeout(120000);
  let browser: Browser;
  let server: Server;
  let page: Page;
  let base = "";
  const sink = new MemorySink();

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.KAFKASIM_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      this.skip();
    }
    const root = webRoot();
    if (!existsSync(join(root, "dist", "viewer.js"))) throw new Error("web/dist/viewer.js is missing: run npm run build");
    const scenario = validateScenario(scenarioFile("kip-101-data-loss"), "kip-101-data-loss.json");
    runScenario(scenario, { sinks: [sink] });
    const dir = mkdtempSync(join(tmpdir(), "kafkasim-browser-"));
    const trace = join(dir, "kip-101.jsonl");
    writeFileSync(trace, sink.lines.join("\n") + "\n");
    server = await startViewServer(root, trace, 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/?trace=/trace.jsonl`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(base);
    await page.waitForSelector("body[data-ready]", { timeout: 30000 });
    expect(errors, "page errors").to.deep.equal([]);
    expect(await page.getAttribute("body", "data-ready")).to.equal("true");
  });

  /** Navigates to a URL whose hash names a position and waits until the viewer is there (hashchange is async). */
  async function seekByUrl(url: string, expected: number): Promise<void> {
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForFunction((i) => document.body.dataset.cursor === String(i), expected, { timeout: 10000 });
  }

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it("opens the served trace at the plain URL, at the first key event once every host is up", async () => {
    const plain = base.replace("?trace=/trace.jsonl", "");
    const other = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    try {
      await other.goto(plain);
      await other.waitForSelector("body[data-ready=true]", { timeout: 30000 });
      const cursor = Number(await other.getAttribute("body", "data-cursor"));
      const expected = await other.evaluate(() => {
        const events = (window as unknown as { kafkasimViewer: { index: { events: { kind: string; incarnation?: number }[] } } }).kafkasimViewer.index.events;
        let last = -1;
        events.forEach((e, i) => {
          if (e.kind === "host-start" && e.incarnation === 1) last = i;
        });
        return last;
      });
      expect(cursor).to.be.greaterThan(expected);
      expect(await other.$$("#inspector .host-down"), "hosts shown down").to.have.length(0);
    } finally {
      await other.close();
    }
  });

  it("draws one lane per node, grouped; density ticks in the full view, message arrows zoomed in", async () => {
    const lanes = await page.evaluate(() => (window as unknown as { kafkasimViewer: { index: { lanes: { name: string }[] } } }).kafkasimViewer.index.lanes.map((l) => l.name));
    expect(lanes).to.deep.equal(["zk-1", "zk-2", "zk-3", "broker-1", "broker-2", "broker-3", "admin", "p1"]);
    // 70 s of traffic on one screen: messages are per-lane density ticks, not arrows merging into blocks.
    await page.waitForFunction(() => document.querySelector("#timeline canvas.lanes")?.getAttribute("data-density") === "true", undefined, { timeout: 10_000 });
    await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { timeline: { zoomTo(a: number, b: number): void } } }).kafkasimViewer;
      viewer.timeline.zoomTo(3_000_000, 6_000_000);
    });
    // The redraw after a zoom may come on the next frame.
    await page.waitForFunction(() => document.querySelector("#timeline canvas.lanes")?.getAttribute("data-density") === "false", undefined, { timeout: 10_000 });
    const arrows = Number(await page.getAttribute("#timeline canvas.lanes", "data-arrows"));
    expect(arrows, "arrows drawn zoomed in").to.be.greaterThan(100);
    await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { timeline: { zoomTo(a: number, b: number): void }; index: { endT: number } } }).kafkasimViewer;
      viewer.timeline.zoomTo(0, viewer.index.endT);
    });
    await page.waitForFunction(() => document.querySelector("#timeline canvas.lanes")?.getAttribute("data-density") === "true", undefined, { timeout: 10_000 });
  });

  it("names the message under the pointer", async () => {
    // Zoom to one LeaderAndIsr (a lone controller request) and hover the middle of its arrow.
    const point = await page.evaluate(() => {
      type V = { index: { messages: { count: number; types: string[]; type: Int16Array; sendT: Float64Array; endT: Float64Array; from: Int16Array; to: Int16Array } }; timeline: { zoomTo(a: number, b: number): void; draw(): void; scale: (t: number) => number } };
      const viewer = (window as unknown as { kafkasimViewer: V }).kafkasimViewer;
      const m = viewer.index.messages;
      let i = 0;
      while (i < m.count && !(m.types[m.type[i]] === "LeaderAndIsr" && !Number.isNaN(m.endT[i]))) i++;
      viewer.timeline.zoomTo(m.sendT[i] - 2000, m.endT[i] + 2000);
      viewer.timeline.draw();
      const x = 150 + (viewer.timeline.scale(m.sendT[i]) + viewer.timeline.scale(m.endT[i])) / 2;
      const y = ((m.from[i] + m.to[i]) / 2) * 30 + 15 + 8;
      return { x, y };
    });
    const box = (await page.locator("#timeline canvas.lanes").boundingBox())!;
    await page.mouse.move(box.x + point.x, box.y + point.y);
    const tooltip = page.locator("#timeline .tooltip");
    expect(await tooltip.isVisible()).to.equal(true);
    expect(await tooltip.textContent()).to.match(/^LeaderAndIsr: broker-\d → broker-\d, sent at .*, delivered at /);
    await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { index: { endT: number }; timeline: { zoomTo(a: number, b: number): void } } }).kafkasimViewer;
      viewer.timeline.zoomTo(0, viewer.index.endT);
    });
    await page.waitForFunction(() => document.querySelector("#timeline canvas.lanes")?.getAttribute("data-density") === "true", undefined, { timeout: 10_000 });
  });

  it("marks the violations; clicking the marker explains it and links the evidence", async () => {
    const names = await page.$$eval(".violation-link", (links) => links.map((a) => a.textContent ?? ""));
    expect(names.join(" ")).to.include("lost-write");
    expect(names.join(" ")).to.include("hwm-regression");
    // Click the hwm-regression marker on the canvas itself.
    const point = await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { index: { violations: { name: string }[] }; timeline: { violationPoint(i: number): { x: number; y: number } } } }).kafkasimViewer;
      const i = viewer.index.violations.findIndex((v) => v.name === "hwm-regression");
      return viewer.timeline.violationPoint(i);
    });
    const box = (await page.locator("#timeline canvas.lanes").boundingBox())!;
    await page.mouse.click(box.x + point.x, box.y + point.y);
    await page.waitForSelector('.explain[data-violation-name="hwm-regression"]');
    const text = await page.textContent(".explain");
    expect(text).to.include("broker-3 became leader");
    const links = await page.$$(".evidence a");
    expect(links.length).to.be.greaterThan(0);
    // Following an evidence link moves the playback position to that event.
    const target = await links[0].getAttribute("data-index");
    await links[0].click();
    expect(await page.getAttribute("body", "data-cursor")).to.equal(target);
  });

  it("shows the inspector's HW and LEO at a given event, as the trace's state says", async () => {
    const { events, header } = parseTrace(sink.lines.join("\n"));
    const state = Timeline.build(header, events);
    // The leader's HW just after broker-1 advances it past 100.
    const i = events.findIndex((e) => e.kind === "hwm" && e.node === "broker-1" && Number(e.highWatermark) >= 100);
    expect(i).to.be.greaterThan(0);
    await seekByUrl(`${base}#i=${i}`, i);
    const replica = page.locator('.partition[data-partition="t-0"] .replica[data-replica="broker-1"]');
    expect(await replica.getAttribute("data-hw")).to.equal(String(events[i].highWatermark));
    const expected = state.stateAt(i).partitions.find((p) => p.topicPartition === "t-0")!.replicaViews.find((r) => r.host === "broker-1")!;
    expect(await replica.getAttribute("data-leo")).to.equal(String(expected.logEndOffset));
    expect(await page.textContent('.partition[data-partition="t-0"] [data-field="leader"]')).to.equal("broker-1");
  });

  it("steps forward and back with the keyboard and the buttons, and keeps the position in the URL", async () => {
    const start = Number(await page.getAttribute("body", "data-cursor"));
    await page.locator("#timeline canvas.lanes").focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    expect(Number(await page.getAttribute("body", "data-cursor"))).to.equal(start + 2);
    await page.click("#step-back");
    expect(Number(await page.getAttribute("body", "data-cursor"))).to.equal(start + 1);
    expect(page.url()).to.include(`#i=${start + 1}`);
    // Shift+→ jumps to the next key event (an election, ISR change, truncation, fault…).
    await page.keyboard.press("Shift+ArrowRight");
    const key = Number(await page.getAttribute("body", "data-cursor"));
    expect(key).to.be.greaterThan(start + 1);
    await page.keyboard.press("Shift+ArrowLeft");
    expect(Number(await page.getAttribute("body", "data-cursor"))).to.be.lessThan(key);
  });

  it("shows the records broker-3 truncates as they disappear, and saves a screenshot of that moment", async () => {
    const { events } = parseTrace(sink.lines.join("\n"));
    const decision = events.findIndex((e) => e.kind === "replica-truncate" && e.node === "broker-3" && Number(e.offset) > 0);
    const i = events.findIndex((e, k) => k >= decision && e.kind === "log-truncate" && e.node === "broker-3");
    expect(i, "broker-3 truncates its log").to.be.greaterThan(0);
    await seekByUrl(`${base}#i=${i}`, i);
    // The dropped offsets (from the stale HW to the old log end) show as truncated, not as present records.
    const replica = page.locator('.partition[data-partition="t-0"] .replica[data-replica="broker-3"]');
    expect(await replica.locator(".cell.truncated").count()).to.equal(Number(events[decision].logEndOffset) - Number(events[decision].offset));
    expect(await replica.getAttribute("data-leo")).to.equal(String(events[decision].offset));
    // Two simulated seconds later they are gone.
    let later = i;
    while (later + 1 < events.length && events[later + 1].t <= events[i].t + 2_500_000) later++;
    await seekByUrl(`${base}#t=${(events[i].t + 2_500_000) / 1e6}`, later);
    expect(await replica.locator(".cell.truncated").count()).to.equal(0);
    await seekByUrl(`${base}#i=${i}`, i);
    await page.evaluate(() => {
      const viewer = (window as unknown as { kafkasimViewer: { timeline: { zoomTo(a: number, b: number): void; draw(): void } } }).kafkasimViewer;
      viewer.timeline.zoomTo(11_500_000, 14_000_000);
      viewer.timeline.draw();
    });
    await page.waitForTimeout(100);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, "viewer-kip-101.png");
    await page.screenshot({ path: file, fullPage: false });
    expect(existsSync(file)).to.equal(true);
  });
});
