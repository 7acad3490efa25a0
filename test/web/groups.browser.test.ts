/**
 * The viewer's consumer groups in a real browser (Debian's chromium driven by playwright-core): loads the
 * synthetic groups trace (test/web/fixtures/group-trace.ts) through `kafkasim view`'s server and checks the
 * group lanes (their state at the playback position, a rebalance shaded apart from Stable, the hover text)
 * and the inspector's Consumer groups panel against the state timeline; saves artifacts/viewer-groups.png. Then a
 * real trace, scenarios/group-coordinator-failover.json's: the group's lane and panel follow it from the crashed
 * coordinator to the one that loads it (artifacts/viewer-groups-failover.png).
 * Without chromium it skips, unless KAFKASIM_REQUIRE_BROWSER is set (CI sets it).
 */

import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startViewServer, webRoot } from "../../src/cli/view-command.ts";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace, type TraceEvent } from "../../src/sim/trace.ts";
import { Timeline } from "../../web/src/state/index.ts";
import { scenarioFile } from "../scenario/helpers.ts";
import { groupTrace, M1, M3 } from "./fixtures/group-trace.ts";

const CHROMIUM = process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(new URL("../..", import.meta.url).pathname, "artifacts");
const S = 1_000_000;
const LABEL_WIDTH = 150;
const LANE_HEIGHT = 30;

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

describe("viewer in a real browser: consumer groups", function () {
  this.timeout(120000);
  let browser: Browser;
  let server: Server;
  let page: Page;
  let base = "";
  const { header, events, text } = groupTrace();
  const state = Timeline.build(header, events);

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.KAFKASIM_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      this.skip();
    }
    const root = webRoot();
    if (!existsSync(join(root, "dist", "viewer.js"))) throw new Error("web/dist/viewer.js is missing: run npm run build");
    const dir = mkdtempSync(join(tmpdir(), "kafkasim-groups-"));
    const trace = join(dir, "groups.jsonl");
    writeFileSync(trace, text);
    server = await startViewServer(root, trace, 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/?trace=/trace.jsonl`;
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(base);
    await page.waitForSelector("body[data-ready]", { timeout: 30000 });
    expect(errors, "page errors").to.deep.equal([]);
    expect(await page.getAttribute("body", "data-ready")).to.equal("true");
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  async function seek(i: number): Promise<void> {
    await page.goto(`${base}#i=${i}`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForFunction((n) => document.body.dataset.cursor === String(n), i, { timeout: 10000 });
    await page.evaluate(() => (window as unknown as { kafkasimViewer: { timeline: { draw(): void } } }).kafkasimViewer.timeline.draw());
  }

  /** The colour drawn on the canvas at time t in the middle of lane `lane`, a little under the lane's axis. */
  async function pixel(t: number, lane: number): Promise<[number, number, number]> {
    return page.evaluate(
      ({ t, lane, labelWidth, laneHeight }) => {
        const viewer = (window as unknown as { kafkasimViewer: { timeline: { scale: (t: number) => number } } }).kafkasimViewer;
        const canvas = document.querySelector<HTMLCanvasElement>("#timeline canvas.lanes")!;
        const dpr = window.devicePixelRatio || 1;
        const x = Math.round((labelWidth + viewer.timeline.scale(t)) * dpr);
        const y = Math.round((lane * laneHeight + laneHeight / 2 + 8 + 7) * dpr);
        const data = canvas.getContext("2d")!.getImageData(x, y, 1, 1).data;
        return [data[0], data[1], data[2]] as [number, number, number];
      },
      { t, lane, labelWidth: LABEL_WIDTH, laneHeight: LANE_HEIGHT },
    );
  }

  it("draws a lane per group after the clients, with the group's state at the playback position", async () => {
    const lanes = await page.evaluate(() => (window as unknown as { kafkasimViewer: { index: { lanes: { name: string }[] } } }).kafkasimViewer.index.lanes.map((l) => l.name));
    expect(lanes.slice(-3)).to.deep.equal(["c4", "group g1", "group reports"]);
    const i = state.indexAtTime(9 * S);
    await seek(i);
    const canvas = page.locator("#timeline canvas.lanes");
    expect(Number(await canvas.getAttribute("data-group-spans"))).to.be.greaterThan(10);
    expect(await canvas.getAttribute("data-group-states")).to.equal("g1=Stable/2;reports=Stable/1");
  });

  it("shades a rebalance apart from Stable on the group's lane", async () => {
    const lane = 9; // group g1
    const [r1, g1, b1] = await pixel(2.5 * S, lane); // PreparingRebalance: orange
    const [r2, g2, b2] = await pixel(6 * S, lane); // Stable: green
    expect(g2, "Stable: green over blue").to.be.greaterThan(b2);
    expect(r1, "rebalance: red over green").to.be.greaterThan(g1);
    expect(r1, "rebalance: red over blue").to.be.greaterThan(b1 + 40);
    expect(g2, "Stable: green over red").to.be.greaterThan(r2);
  });

  it("names the group's state under the pointer", async () => {
    const point = await page.evaluate(
      ({ t, labelWidth }) => labelWidth + (window as unknown as { kafkasimViewer: { timeline: { scale: (t: number) => number } } }).kafkasimViewer.timeline.scale(t),
      { t: 6 * S, labelWidth: LABEL_WIDTH },
    );
    const box = (await page.locator("#timeline canvas.lanes").boundingBox())!;
    await page.mouse.move(box.x + point, box.y + 9 * LANE_HEIGHT + LANE_HEIGHT / 2 + 8 + 7);
    const tooltip = page.locator("#timeline .tooltip");
    expect(await tooltip.isVisible()).to.equal(true);
    expect(await tooltip.textContent()).to.match(/^group g1: Stable, generation 1, leader c1-5f2a, 2 members, protocol range, coordinator broker-1, from /);
  });

  it("shows the inspector's Consumer groups panel as the state timeline has it", async () => {
    const i = state.indexAtTime(9 * S);
    await seek(i);
    const expected = state.stateAt(i).groups.find((g) => g.group === "g1")!;
    const panel = page.locator('#inspector .group[data-group="g1"]');
    expect(await panel.getAttribute("data-state")).to.equal(expected.state);
    expect(await panel.getAttribute("data-generation")).to.equal(String(expected.generation));
    expect(await panel.locator('[data-field="coordinator"]').textContent()).to.equal("broker-1");
    expect(await panel.locator('[data-field="protocol"]').textContent()).to.equal("range");
    expect(await panel.locator('[data-field="group-leader"]').textContent()).to.equal(M1);
    const rows = await panel.locator("tr[data-member]").evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-client"), tr.querySelector('[data-field="assignment"]')!.textContent]));
    expect(rows).to.deep.equal(expected.members.map((m) => [m.client, m.assignment.join(", ")]));
    expect(rows).to.deep.equal([
      ["c1", "t-0"],
      ["c2", "t-1"],
      ["c3", "t-2"],
    ]);
    expect(await panel.locator(`tr[data-member="${M3}"] td`).nth(1).textContent()).to.equal("i-3");
    const committed = await panel.locator(".committed .offset").evaluateAll((spans) => spans.map((s) => `${s.getAttribute("data-tp")}@${s.getAttribute("data-offset")}`));
    expect(committed).to.deep.equal(expected.committed.map((c) => `${c.topicPartition}@${c.offset}`));
    expect(committed).to.deep.equal(["t-0@5", "t-1@3", "t-2@4"]);
  });

  it("follows the coordinator's failover in the panel, and saves a screenshot of a rebalance", async () => {
    await seek(state.indexAtTime(16.5 * S));
    expect(await page.locator('#inspector .group[data-group="g1"] [data-field="coordinator"]').textContent()).to.equal("broker-1 (down)");
    await seek(state.indexAtTime(17 * S));
    expect(await page.locator('#inspector .group[data-group="g1"] [data-field="coordinator"]').textContent()).to.equal("broker-2");
    const i = events.findIndex((e) => e.kind === "group-state" && e.group === "g1" && e.state === "CompletingRebalance" && e.generation === 3);
    await seek(i);
    expect(await page.locator('#inspector .group[data-group="g1"]').getAttribute("data-state")).to.equal("CompletingRebalance");
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, "viewer-groups.png");
    await page.screenshot({ path: file, fullPage: false });
    expect(existsSync(file)).to.equal(true);
  });
});

describe("viewer in a real browser: a real group coordinator failover", function () {
  this.timeout(120000);
  let browser: Browser;
  let server: Server;
  let page: Page;
  let base = "";
  let events: TraceEvent[] = [];
  let state: Timeline;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.KAFKASIM_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      this.skip();
    }
    const root = webRoot();
    if (!existsSync(join(root, "dist", "viewer.js"))) throw new Error("web/dist/viewer.js is missing: run npm run build");
    const sink = new MemorySink();
    runScenario(validateScenario(scenarioFile("group-coordinator-failover"), "group-coordinator-failover.json"), { sinks: [sink] });
    const text = sink.lines.join("\n") + "\n";
    const parsed = parseTrace(text);
    events = parsed.events;
    state = Timeline.build(parsed.header, events);
    const dir = mkdtempSync(join(tmpdir(), "kafkasim-groups-failover-"));
    const trace = join(dir, "group-coordinator-failover.jsonl");
    writeFileSync(trace, text);
    server = await startViewServer(root, trace, 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/?trace=/trace.jsonl`;
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(base);
    await page.waitForSelector("body[data-ready]", { timeout: 30000 });
    expect(errors, "page errors").to.deep.equal([]);
    expect(await page.getAttribute("body", "data-ready")).to.equal("true");
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  async function seek(i: number): Promise<void> {
    await page.goto(`${base}#i=${i}`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForFunction((n) => document.body.dataset.cursor === String(n), i, { timeout: 10000 });
    await page.evaluate(() => (window as unknown as { kafkasimViewer: { timeline: { draw(): void } } }).kafkasimViewer.timeline.draw());
  }

  const groupStates = () => page.locator("#timeline canvas.lanes").getAttribute("data-group-states");
  const coordinator = () => page.locator('#inspector .group[data-group="g1"] [data-field="coordinator"]').textContent();

  /** The tooltip over the group's lane at time t. */
  async function hoverGroupLane(t: number): Promise<string> {
    const { x, lane } = await page.evaluate(
      ({ t, labelWidth }) => {
        const viewer = (window as unknown as { kafkasimViewer: { timeline: { scale: (t: number) => number }; index: { groupLanes: Map<string, number> } } }).kafkasimViewer;
        return { x: labelWidth + viewer.timeline.scale(t), lane: viewer.index.groupLanes.get("g1")! };
      },
      { t, labelWidth: LABEL_WIDTH },
    );
    const box = (await page.locator("#timeline canvas.lanes").boundingBox())!;
    await page.mouse.move(box.x + x, box.y + lane * LANE_HEIGHT + LANE_HEIGHT / 2 + 8 + 7);
    const tooltip = page.locator("#timeline .tooltip");
    expect(await tooltip.isVisible()).to.equal(true);
    return (await tooltip.textContent()) ?? "";
  }

  it("moves the group's lane and panel from the crashed coordinator to the broker that loads it", async () => {
    const crash = events.find((e) => e.kind === "host-crash" && e.node === "broker-1")!;
    const before = events.filter((e) => e.kind === "group-state" && e.seq < crash.seq).pop()!;
    const loaded = events.find((e) => e.kind === "group-state" && e.previousState === null)!;
    const last = events.filter((e) => e.kind === "group-state").pop()!;
    expect([before.node, loaded.node, last.node]).to.deep.equal(["broker-1", "broker-2", "broker-2"]);

    // Mid-rebalance on broker-1 when it crashes.
    await seek(crash.seq - 1);
    expect(await groupStates()).to.equal(`g1=${String(before.state)}/${String(before.generation)}`);
    expect(await coordinator()).to.equal("broker-1");
    // The lane keeps the state, hatched: nobody serves the group until broker-2 loads it.
    await seek(state.indexAtTime(crash.t + 1_000_000));
    expect(await coordinator()).to.equal("broker-1 (down)");
    expect(await hoverGroupLane(crash.t + 1_000_000)).to.match(new RegExp(`^group g1: ${String(before.state)}.*, coordinator broker-1 down, from `));
    // Loaded by broker-2 in the state its last record stored.
    await seek(loaded.seq);
    expect(await groupStates()).to.equal(`g1=${String(loaded.state)}/${String(loaded.generation)}`);
    expect(await coordinator()).to.equal("broker-2");
    // And rebalanced there.
    await seek(events.length - 1);
    expect(await groupStates()).to.equal(`g1=${String(last.state)}/${String(last.generation)}`);
    expect(await coordinator()).to.equal("broker-2");
    expect(await hoverGroupLane((last.t + events[events.length - 1].t) / 2)).to.match(/^group g1: Stable, generation 2, leader c1-[0-9a-f]{4}, 3 members, protocol range, coordinator broker-2, from /);
    const leader = page.locator('#inspector .group[data-group="g1"] [data-field="group-leader"]');
    expect(await leader.getAttribute("title")).to.equal(last.leader);
    expect(await leader.textContent()).to.match(/^c1-[0-9a-f]{4}$/);
    const view = state.stateAt(events.length - 1).groups.find((g) => g.group === "g1")!;
    const rows = await page.locator('#inspector .group[data-group="g1"] tr[data-member]').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-member"), tr.querySelector('[data-field="assignment"]')!.textContent]));
    expect(rows).to.deep.equal(view.members.map((m) => [m.memberId, m.assignment.join(", ")]));
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, "viewer-groups-failover.png");
    await seek(state.indexAtTime(crash.t + 3_000_000));
    await page.screenshot({ path: file, fullPage: false });
    expect(existsSync(file)).to.equal(true);
  });
});
