/**
 * The viewer application: loads a trace (file picker, drag and drop, or `?trace=URL`), builds the drawing
 * index and the state timeline, and wires the space-time diagram, the metrics charts, the state inspector,
 * the scenario narrative and the violations panel to one playback position — an event index, kept in the
 * URL (`#i=N`) so a moment can be shared. Playback: play / pause / step / scrub, speed in simulated seconds
 * per real second, keyboard shortcuts (space, ← →, shift+← → for key events, Home, End, + −).
 */

import { Timeline } from "../state/index.ts";
import { explainViolation } from "./explain.ts";
import { renderInspector } from "./inspector-view.ts";
import { MetricsView } from "./metrics-view.ts";
import { TimelineView, formatTime } from "./timeline-view.ts";
import { indexTrace, lowerBound, parseTraceText, type TraceIndex } from "./trace-index.ts";
import { RunPanel, type BrowserRun } from "./run-panel.ts";
import { WhatIfPanel } from "./whatif-panel.ts";
import { decodeScenario } from "./whatif-model.ts";
import { TourPanel } from "./tour-panel.ts";
import { legendHtml } from "./legend.ts";
import { tourOf } from "./tour-model.ts";

const SPEEDS = [0.05, 0.25, 1, 4, 20, 100];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

class Viewer {
  cursor = -1;
  private playing = false;
  private speedIndex = 2;
  private lastFrame = 0;
  private playT = 0;
  private inspectorDue = 0;
  private urlDue = 0;
  private focusPartition: string | null = null;
  private readonly eventT: Float64Array;
  private readonly listeners = new AbortController();
  readonly timeline: TimelineView;
  readonly metrics: MetricsView;

  constructor(
    readonly index: TraceIndex,
    readonly state: Timeline,
  ) {
    this.eventT = Float64Array.from(index.events, (e) => e.t);
    this.metrics = new MetricsView($("metrics"), index);
    this.timeline = new TimelineView($("timeline"), index, {
      seekTime: (t) => this.seekTime(t),
      selectViolation: (i) => this.showViolation(i),
      windowChanged: (x) => this.metrics.setWindow(x),
      pickLaneTime: (node, t) => whatIf?.pick(node, t),
    });
    this.renderNarrative();
    const scrub = $<HTMLInputElement>("scrub");
    scrub.max = String(Math.max(1, index.endT));
    scrub.step = "1";
    scrub.oninput = () => this.seekTime(Number(scrub.value));
    $("play").onclick = () => this.togglePlay();
    $("step-back").onclick = (e) => this.step(-1, (e as MouseEvent).shiftKey);
    $("step-forward").onclick = (e) => this.step(1, (e as MouseEvent).shiftKey);
    $("key-back").onclick = () => this.step(-1, true);
    $("key-forward").onclick = () => this.step(1, true);
    $<HTMLSelectElement>("speed").innerHTML = SPEEDS.map((s, i) => `<option value="${i}"${i === this.speedIndex ? " selected" : ""}>${s}× </option>`).join("");
    $<HTMLSelectElement>("speed").onchange = (e) => (this.speedIndex = Number((e.target as HTMLSelectElement).value));
    $("inspector").addEventListener("change", (e) => {
      const target = e.target as HTMLSelectElement;
      if (target.classList.contains("partition-filter")) {
        this.focusPartition = target.value === "" ? null : target.value;
        this.renderInspector();
      }
    });
    document.addEventListener("keydown", (e) => this.onKey(e), { signal: this.listeners.signal });
    window.addEventListener("hashchange", () => this.fromHash(), { signal: this.listeners.signal });
    this.fromHash(true);
  }

  /** Detaches from the page before another trace replaces this one. */
  dispose(): void {
    this.playing = false;
    this.listeners.abort();
    this.timeline.dispose();
  }

  private fromHash(initial = false): void {
    const params = new URLSearchParams(location.hash.slice(1));
    const i = params.get("i");
    const t = params.get("t");
    if (i !== null && /^-?\d+$/.test(i)) this.seek(Number(i), false);
    else if (t !== null && /^\d+(\.\d+)?$/.test(t)) this.seekTime(Number(t) * 1e6);
    else if (initial) this.seek(this.openingIndex(), false);
  }

  /**
   * Where a trace opens without a position in the URL: the first key event once every host has started (event 0 has
   * every host still down), or the last start when there is no later key event.
   */
  openingIndex(): number {
    const events = this.index.events;
    let lastStart = -1;
    for (let i = 0; i < events.length; i++) if (events[i].kind === "host-start" && events[i].incarnation === 1) lastStart = i;
    const keys = this.index.keyIndexes;
    const at = lowerBound(keys, lastStart + 1);
    return at < keys.length ? keys[at] : lastStart;
  }

  seekTime(t: number): void {
    this.seek(lowerBound(this.eventT, t + 1) - 1);
    this.playT = t;
  }

  /** Moves the playback position to event `i` (−1: before the first event). */
  seek(i: number, writeUrl = true): void {
    const clamped = Math.max(-1, Math.min(this.index.events.length - 1, i));
    this.cursor = clamped;
    const t = clamped >= 0 ? this.index.events[clamped].t : 0;
    if (!this.playing) this.playT = t;
    this.timeline.setCursor(t);
    this.metrics.setCursor(t);
    $<HTMLInputElement>("scrub").value = String(t);
    const event = clamped >= 0 ? this.index.events[clamped] : null;
    $("position").textContent = `${formatTime(t)} · event ${clamped + 1} / ${this.index.events.length}`;
    $("current-event").textContent = event === null ? "before the first event" : summary(event);
    document.body.dataset.cursor = String(clamped);
    const now = performance.now();
    if (!this.playing || now >= this.inspectorDue) {
      this.renderInspector();
      this.inspectorDue = now + 120;
    }
    if (writeUrl && (!this.playing || now >= this.urlDue)) {
      const url = `${location.pathname}${location.search}#i=${clamped}`;
      history.replaceState(null, "", url);
      this.urlDue = now + 500;
    }
  }

  private renderInspector(): void {
    const started = performance.now();
    const view = this.state.stateAt(this.cursor);
    renderInspector($("inspector"), view, this.focusPartition);
    const leaders = new Map<string, string[]>();
    for (const p of view.partitions) {
      if (p.leader < 0) continue;
      const host = `broker-${p.leader}`;
      const list = leaders.get(host) ?? [];
      list.push(p.topicPartition);
      leaders.set(host, list);
    }
    this.timeline.setLeaders(leaders);
    $("inspector").dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  step(direction: 1 | -1, keyEvents: boolean): void {
    this.pause();
    if (!keyEvents) {
      this.seek(this.cursor + direction);
      return;
    }
    const keys = this.index.keyIndexes;
    if (direction > 0) {
      const at = lowerBound(keys, this.cursor + 1);
      this.seek(at < keys.length ? keys[at] : this.index.events.length - 1);
    } else {
      const at = lowerBound(keys, this.cursor) - 1;
      this.seek(at >= 0 ? keys[at] : -1);
    }
  }

  togglePlay(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  private play(): void {
    if (this.cursor >= this.index.events.length - 1) this.seek(-1);
    this.playing = true;
    $("play").textContent = "⏸";
    this.lastFrame = performance.now();
    const tick = (now: number) => {
      if (!this.playing) return;
      const dt = (now - this.lastFrame) / 1000;
      this.lastFrame = now;
      this.playT += dt * SPEEDS[this.speedIndex] * 1e6;
      if (this.playT >= this.index.endT) {
        this.seek(this.index.events.length - 1);
        this.pause();
        return;
      }
      const t = this.playT;
      this.seek(lowerBound(this.eventT, t + 1) - 1);
      this.playT = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  private pause(): void {
    if (!this.playing) return;
    this.playing = false;
    $("play").textContent = "▶";
    this.seek(this.cursor);
  }

  private onKey(e: KeyboardEvent): void {
    if ((e.target as HTMLElement).tagName === "INPUT" || (e.target as HTMLElement).tagName === "SELECT") return;
    if (e.key === " ") this.togglePlay();
    else if (e.key === "ArrowRight") this.step(1, e.shiftKey);
    else if (e.key === "ArrowLeft") this.step(-1, e.shiftKey);
    else if (e.key === "Home") this.seek(-1);
    else if (e.key === "End") this.seek(this.index.events.length - 1);
    else if (e.key === "+" || e.key === "=") this.setSpeed(this.speedIndex + 1);
    else if (e.key === "-") this.setSpeed(this.speedIndex - 1);
    else return;
    e.preventDefault();
  }

  private setSpeed(i: number): void {
    this.speedIndex = Math.max(0, Math.min(SPEEDS.length - 1, i));
    $<HTMLSelectElement>("speed").value = String(this.speedIndex);
  }

  private renderNarrative(): void {
    const { header, narrative, violations } = this.index;
    const parts: string[] = [];
    parts.push(`<h2>${esc(header.scenario)} <small class="muted">seed ${esc(header.seed)}</small></h2>`);
    if (typeof header.description === "string" && header.description !== "") parts.push(`<p class="description">${esc(header.description)}</p>`);
    parts.push(`<h3>Violations (${violations.length})</h3>`);
    if (violations.length === 0) parts.push('<p class="muted">none: every invariant held</p>');
    parts.push('<ul class="violations">');
    violations.forEach((v, i) => parts.push(`<li><a href="#" data-violation="${i}" class="violation-link">⚠ ${esc(v.name)}</a> <small>${formatTime(v.t)} on ${esc(v.nodes.join(", "))}</small></li>`));
    parts.push("</ul><div id=\"explanation\"></div>");
    parts.push(`<h3>Faults and notes</h3><ol class="narrative">`);
    for (const item of narrative) {
      parts.push(`<li><a href="#" data-seq="${item.seq}" class="seek-link">${formatTime(item.t)}</a> ${esc(item.label)}${item.note !== undefined ? `<div class="note">${esc(item.note)}</div>` : ""}</li>`);
    }
    parts.push("</ol>");
    const panel = $("narrative");
    panel.innerHTML = parts.join("");
    panel.onclick = (e) => {
      const target = (e.target as HTMLElement).closest("a");
      if (target === null) return;
      e.preventDefault();
      if (target.dataset.violation !== undefined) this.showViolation(Number(target.dataset.violation));
      else if (target.dataset.seq !== undefined) this.seek(this.indexOfSeq(Number(target.dataset.seq)));
      else if (target.dataset.index !== undefined) this.focusEvent(Number(target.dataset.index));
    };
  }

  private indexOfSeq(seq: number): number {
    const events = this.index.events;
    if (events[seq]?.seq === seq) return seq;
    return events.findIndex((e) => e.seq === seq);
  }

  /** A tour stop: the event, ringed, and the inspector on the stop's partition (all partitions without one). */
  showStop(i: number, partition: string | undefined): void {
    this.focusPartition = partition ?? null;
    this.focusEvent(i);
    this.renderInspector();
  }

  /** Seeks to an evidence event and rings it on the timeline. */
  focusEvent(i: number): void {
    const e = this.index.events[i];
    this.seek(i);
    this.timeline.setHighlight({ t: e.t, lane: this.index.laneOf.get(e.node) ?? -1 });
    const [d0, d1] = this.timeline.scale.domain();
    if (e.t < d0 || e.t > d1) this.timeline.zoomTo(Math.max(0, e.t - (d1 - d0) / 2), Math.max(0, e.t - (d1 - d0) / 2) + (d1 - d0));
  }

  showViolation(i: number): void {
    const v = this.index.violations[i];
    const explanation = explainViolation(this.index, v);
    const box = $("explanation");
    box.innerHTML = `<div class="explain" data-violation-name="${esc(v.name)}"><h4>${esc(explanation.title)}</h4>${explanation.text.map((p) => `<p>${esc(p)}</p>`).join("")}
      <p class="muted">Evidence (click to jump; the event is ringed on the timeline):</p><ul class="evidence">${explanation.links
        .map((l) => `<li><a href="#" data-index="${l.index}">${esc(l.label)}</a></li>`)
        .join("")}</ul><details><summary>raw evidence</summary><pre>${esc(JSON.stringify(v.evidence, null, 2))}</pre></details></div>`;
    this.focusEvent(this.indexOfSeq(v.seq));
  }
}

function summary(e: { t: number; node: string; kind: string; [k: string]: unknown }): string {
  const { t: _t, seq: _s, node, kind, ...rest } = e;
  const text = JSON.stringify(rest);
  return `${node} ${kind} ${text.length > 160 ? `${text.slice(0, 159)}…` : text}`;
}

let current: Viewer | null = null;

let tour: TourPanel | null = null;
let runPanel: RunPanel | null = null;

/**
 * Opens a trace. `document`: the scenario it ran (a browser run), for its tour; without it the tour is the
 * built-in scenario's of the trace's scenario name, if any.
 */
async function load(text: string, source: string, scenarioDocument?: unknown): Promise<void> {
  const status = $("status");
  const started = performance.now();
  try {
    status.textContent = `parsing ${source}…`;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const { header, events } = parseTraceText(text);
    const index = indexTrace(header, events);
    const state = Timeline.build(header, events);
    document.body.classList.add("loaded");
    current?.dispose();
    const viewer = new Viewer(index, state);
    current = viewer;
    const builtIn = runPanel?.library.find((entry) => entry.name === header.scenario);
    tour?.load(String(header.scenario), tourOf(scenarioDocument ?? (builtIn === undefined ? null : JSON.parse(builtIn.text))), events);
    (window as unknown as { kafkasimViewer: Viewer }).kafkasimViewer = viewer;
    const ms = performance.now() - started;
    status.textContent = `${source}: ${events.length.toLocaleString()} events, ${formatTime(index.endT)} simulated, opened in ${(ms / 1000).toFixed(2)} s`;
    document.body.dataset.loadMs = ms.toFixed(0);
    document.body.dataset.ready = "true";
  } catch (error) {
    status.textContent = `${source}: ${(error as Error).message}`;
    status.classList.add("error");
    document.body.dataset.ready = "error";
  }
}

function start(): void {
  $("legend-body").innerHTML = legendHtml();
  const picker = $<HTMLInputElement>("file");
  picker.onchange = async () => {
    const file = picker.files?.[0];
    if (file !== undefined) await load(await file.text(), file.name);
  };
  window.addEventListener("dragover", (e) => {
    e.preventDefault();
    document.body.classList.add("dragging");
  });
  window.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  window.addEventListener("drop", async (e) => {
    e.preventDefault();
    document.body.classList.remove("dragging");
    const file = e.dataTransfer?.files[0];
    if (file !== undefined) await load(await file.text(), file.name);
  });
  const params = new URLSearchParams(location.search);
  const panel = new RunPanel($("run-panel"), "dist/sim-worker.js", opened, async (name, text, t, endT) => {
    await load(text, `${name} (running: ${(t / 1e6).toFixed(0)} of ${(endT / 1e6).toFixed(0)} simulated s)`);
    document.body.dataset.partialDraws = String(Number(document.body.dataset.partialDraws ?? 0) + 1);
  });
  runPanel = panel;
  whatIf = new WhatIfPanel($("whatif"), panel);
  tour = new TourPanel($("tour"), () => current);
  (window as unknown as { kafkasimRunPanel: RunPanel }).kafkasimRunPanel = panel;
  const library = panel.init("dist/scenarios.json");
  // `#s=…`: a scenario carried in the link (the what-if panel's "copy a link"): run it at once.
  const carried = new URLSearchParams(location.hash.slice(1)).get("s");
  if (carried !== null) {
    void decodeScenario(carried)
      .then((document) => panel.run(String(document.name ?? "scenario"), JSON.stringify(document), undefined))
      .catch((error: Error) => {
        $("status").textContent = `the link's scenario cannot be read (${error.message})`;
        $("status").classList.add("error");
      });
    return;
  }
  const url = params.get("trace");
  if (url !== null) {
    void fetchTrace(url, true);
    return;
  }
  // `?scenario=NAME[&seed=N]&run`: run a built-in scenario at once (a link a teacher can hand out).
  if (params.get("scenario") !== null && params.has("run")) {
    void library.then(async () => {
      const entry = panel.library.find((item) => item.name === params.get("scenario"));
      if (entry === undefined) return;
      const seed = params.get("seed");
      await panel.run(entry.name, entry.text, seed === null || seed === "" ? undefined : /^-?\d+$/.test(seed) ? Number(seed) : seed);
    });
    return;
  }
  // The plain URL: the trace `kafkasim view TRACE` serves, when there is one (a static site has none).
  void fetchTrace("trace.jsonl", false);
}

/** Fetches and opens a trace; `required`: a failure is an error (else a missing trace just leaves the page empty). */
async function fetchTrace(url: string, required: boolean): Promise<void> {
  if (required) $("status").textContent = `fetching ${url}…`;
  try {
    const response = await fetch(url);
    if (!response.ok) {
      if (!required) return;
      throw new Error(`HTTP ${response.status}`);
    }
    await load(await response.text(), url);
  } catch (error) {
    if (!required) return;
    $("status").textContent = `${url}: ${(error as Error).message}`;
    $("status").classList.add("error");
    document.body.dataset.ready = "error";
  }
}

let whatIf: WhatIfPanel | null = null;

/** A browser run ended: open its trace, then say its verdict and trace hash (the CLI's, for the same scenario and seed). */
async function opened(run: BrowserRun): Promise<void> {
  await load(run.traceText, `${run.name} (seed ${run.summary.seed})`, JSON.parse(run.text));
  whatIf?.opened(run);
  (window as unknown as { kafkasimLastRun: BrowserRun }).kafkasimLastRun = run;
  const counted = window as unknown as { kafkasimRuns?: number };
  counted.kafkasimRuns = (counted.kafkasimRuns ?? 0) + 1;
  const { summary } = run;
  const verdict = summary.expectationMet ? "✓ expectation met" : `✗ expectation not met (${summary.expectationProblems.join("; ")})`;
  const status = $("status");
  status.textContent = `${run.name} seed ${summary.seed}: ${summary.violations.length} violation(s), ${verdict} · ${summary.events.toLocaleString()} events in ${(summary.wallMs / 1000).toFixed(2)} s · trace ${summary.traceHash}`;
  status.classList.toggle("error", !summary.expectationMet);
  document.body.dataset.traceHash = summary.traceHash;
}

start();
