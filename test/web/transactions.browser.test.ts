/**
 * The viewer's transactions in a real browser (Debian's chromium driven by playwright-core): a real transactional
 * trace (test/web/fixtures/transaction-trace.ts) through `kafkasim view`'s server. At a moment when a
 * transaction is open after an aborted one, the leader's log strip draws COMMIT and ABORT control records (their
 * glyphs), the aborted records shaded and the LSO marker where the state timeline has it; the Transactions panel
 * and the id's lane show the coordinator's state; zoomed in, EndTxn / WriteTxnMarkers arrows are labelled. Saves
 * artifacts/viewer-transactions.png. Without chromium it skips, unless KAFKASIM_REQUIRE_BROWSER is set (CI sets it).
 */

import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startViewServer, webRoot } from "../../src/cli/view-command.ts";
import { parseTrace, type TraceEvent } from "../../src/sim/trace.ts";
import { Timeline } from "../../web/src/state/index.ts";
import { transactionalTrace } from "./fixtures/transaction-trace.ts";

const CHROMIUM = process.env.KAFKASIM_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(new URL("../..", import.meta.url).pathname, "artifacts");

type Viewer = { kafkasimViewer: { timeline: { draw(): void; zoomTo(a: number, b: number): void } } };

describe("viewer in a real browser: transactions", function () {
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
    const text = transactionalTrace();
    const parsed = parseTrace(text);
    events = parsed.events;
    state = Timeline.build(parsed.header, events);
    const dir = mkdtempSync(join(tmpdir(), "kafkasim-transactions-"));
    const trace = join(dir, "transactions.jsonl");
    writeFileSync(trace, text);
    server = await startViewServer(root, trace, 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/?trace=/trace.jsonl`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
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
    await page.evaluate(() => (window as unknown as Viewer).kafkasimViewer.timeline.draw());
  }

  it("draws control records, aborted records and the LSO marker in the leader's log strip", async () => {
    // The first moment the LSO stands below the HW (a transaction open) after an ABORT marker on that partition.
    const abort = events.find((e) => e.kind === "txn-marker-written" && e.result === "ABORT")!;
    const tp = `${String(abort.topic)}-${String(abort.partition)}`;
    // (txn-lso is traced when the LSO moves: while a transaction is open the HW moves on without it.)
    const replicaAt = (e: TraceEvent) => state.stateAt(e.seq).partitions.find((p) => p.topicPartition === tp)!.replicaViews.find((r) => r.host === abort.node)!;
    const open = events.find((e) => e.kind === "hwm" && e.seq > abort.seq && e.node === abort.node && e.topicPartition === tp && (replicaAt(e).lastStableOffset ?? Infinity) < replicaAt(e).highWatermark)!;
    expect(open, "an open transaction after the abort").to.not.equal(undefined);
    const view = replicaAt(open);
    const lastLso = events.filter((e) => e.kind === "txn-lso" && e.seq <= open.seq && e.node === abort.node && e.topicPartition === tp).at(-1)!;
    expect(view.lastStableOffset).to.equal(lastLso.lastStableOffset);
    await seek(open.seq);
    const replica = page.locator(`#inspector .partition[data-partition="${tp}"] .replica[data-replica="${abort.node}"]`);
    expect(await replica.getAttribute("data-lso")).to.equal(String(view.lastStableOffset));

    // Markers: a glyph per control record, ✗ for the ABORT at its offset, ✓ for COMMITs.
    const abortCell = replica.locator(`.cell.control-abort[data-offset="${String(abort.offset)}"]`);
    expect(await abortCell.textContent()).to.match(/^✗/);
    const glyph = (await abortCell.locator("b").boundingBox())!;
    expect(glyph.width).to.be.greaterThan(2);
    expect(glyph.height).to.be.greaterThan(4);
    expect(await abortCell.locator("b").evaluate((b) => getComputedStyle(b).color)).to.equal("rgb(198, 40, 40)");
    expect(await replica.locator(".cell.control-commit").count()).to.be.greaterThan(0);
    // Aborted records shaded: the records of the aborted transaction, before its marker.
    const aborted = await replica.locator(".cell.txn-aborted").evaluateAll((cells) => cells.map((c) => Number(c.getAttribute("data-offset"))));
    const expected = view.window(0, abort.offset as number, 0).filter((r) => r.txn === "aborted").map((r) => r.offset);
    expect(aborted.length).to.be.greaterThan(0);
    expect(aborted).to.deep.equal(expected.filter((o) => aborted[0] <= o));
    expect(await replica.locator(".cell.txn-aborted").first().evaluate((c) => getComputedStyle(c).backgroundImage)).to.match(/repeating-linear-gradient/);

    // The LSO: a purple bar drawn at the LSO's cell, apart from the HW marker.
    const lsoCell = replica.locator(".cell").filter({ has: page.locator("i.lso") });
    expect(await lsoCell.count()).to.equal(1);
    expect(await lsoCell.getAttribute("data-offset")).to.equal(String(view.lastStableOffset));
    const bar = lsoCell.locator("i.lso");
    const box = (await bar.boundingBox())!;
    expect(box.width).to.be.at.least(1);
    expect(box.height).to.be.greaterThan(10);
    expect(await bar.evaluate((b) => getComputedStyle(b).backgroundColor)).to.equal("rgb(123, 31, 162)");
    const hw = (await replica.locator("i.hw").boundingBox())!;
    expect(hw.x - box.x, "HW to the right of the LSO").to.be.greaterThan(4);
  });

  it("shows the coordinator's state in the Transactions panel and on the id's lane", async () => {
    const ongoing = events.find((e) => e.kind === "txn-state" && e.state === "Ongoing" && (e.partitions as string[]).length === 2)!;
    await seek(ongoing.seq);
    const panel = page.locator('#inspector .txn[data-txn="tx-1"]');
    expect(await panel.getAttribute("data-state")).to.equal("Ongoing");
    expect(await panel.locator('[data-field="txn-partitions"]').textContent()).to.equal((ongoing.partitions as string[]).join(", "));
    expect(await panel.locator('[data-field="txn-coordinator"]').textContent()).to.equal(ongoing.node);
    expect(await panel.locator('[data-field="coordinator-epoch"]').textContent()).to.equal(String(ongoing.coordinatorEpoch));
    const canvas = page.locator("#timeline canvas.lanes");
    expect(await canvas.getAttribute("data-txn-states")).to.equal(`tx-1=Ongoing/${String(ongoing.producerId)}/${String(ongoing.producerEpoch)}`);
  });

  it("labels EndTxn and WriteTxnMarkers arrows once zoomed in, and saves a screenshot", async () => {
    const abort = events.find((e) => e.kind === "txn-marker-written" && e.result === "ABORT")!;
    await seek(abort.seq);
    await page.evaluate((t) => {
      const viewer = (window as unknown as Viewer).kafkasimViewer;
      viewer.timeline.zoomTo(t - 250_000, t + 100_000);
      viewer.timeline.draw();
    }, abort.t);
    expect(Number(await page.locator("#timeline canvas.lanes").getAttribute("data-txn-labels"))).to.be.greaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, "viewer-transactions.png");
    await page.screenshot({ path: file, fullPage: false });
    expect(existsSync(file)).to.equal(true);
  });
});
