/**
 * The what-if panel: the faults of the run on screen, each with a time slider (drag it to move the fault), a
 * delete button, and a form to add a crash, power loss, pause, partition or restart (shift+click a lane on the
 * diagram to fill in its node and time; for a partition a second shift+click picks the other side and the end); "re-run" runs the edited scenario in the browser as a new branch under the
 * current one. The branch tree lists every run with its verdict; clicking one opens it; "compare" sets a branch
 * beside its parent (violations, the first trace line where they part, each replica's log end). The edited
 * scenario exports as a file `kafkasim run` replays, and as a link that carries it (#s=…).
 */

import { Timeline } from "../state/index.ts";
import { parseTraceText } from "./trace-index.ts";
import type { BrowserRun, RunPanel } from "./run-panel.ts";
import {
  addFault,
  BranchTree,
  deleteFault,
  describeFault,
  durationMs,
  encodeScenario,
  faultAtMs,
  faultsOf,
  firstDivergingLine,
  formatMs,
  moveFault,
  newFault,
  violationCounts,
  WHATIF_FAULT_TYPES,
  type Branch,
  type ScenarioDocument,
  type WhatIfFaultType,
} from "./whatif-model.ts";

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export class WhatIfPanel {
  private tree: BranchTree | null = null;
  private current = 0;
  /** The edits since the last run, applied to the current branch's document. */
  private draft: ScenarioDocument | null = null;
  private edits: string[] = [];
  private comparison = "";
  /** The branch a run in flight belongs to (null: a run from the picker starts a new tree). */
  private pending: number | null = null;
  private reopening = false;
  private readonly runsById = new Map<number, BrowserRun>();

  constructor(
    private readonly root: HTMLElement,
    private readonly runs: RunPanel,
  ) {
    root.addEventListener("input", (event) => this.onInput(event));
    root.addEventListener("click", (event) => void this.onClick(event));
  }

  /**
   * A run opened in the viewer: a run of a branch records the branch's result; any other (the picker, a link)
   * starts a new tree with it as the original.
   */
  opened(run: BrowserRun): void {
    if (this.reopening) return;
    let branchId = this.pending;
    this.pending = null;
    if (this.tree === null || branchId === null) {
      this.tree = new BranchTree(JSON.parse(run.text) as ScenarioDocument, run.seed);
      this.runsById.clear();
      branchId = 0;
    }
    this.runsById.set(branchId, run);
    const branch = this.tree.get(branchId);
    branch.result = { verdict: run.summary.verdict, expectationMet: run.summary.expectationMet, violations: run.summary.violations.map((v) => v.name), traceHash: run.summary.traceHash };
    branch.trace = run.traceText;
    this.current = branchId;
    this.draft = null;
    this.edits = [];
    this.comparison = "";
    this.render();
  }

  /**
   * Shift+click on the diagram: the lane's node and the time for a new fault. For a partition, a second shift+click
   * picks the other side ("from here to there": the two nodes are cut from each other) and its time the end.
   */
  pick(node: string, tUs: number): void {
    const nodeSelect = this.root.querySelector<HTMLSelectElement>("#whatif-node");
    const peerSelect = this.root.querySelector<HTMLSelectElement>("#whatif-peer");
    const type = this.root.querySelector<HTMLSelectElement>("#whatif-type");
    const at = this.root.querySelector<HTMLInputElement>("#whatif-at");
    const span = this.root.querySelector<HTMLInputElement>("#whatif-for");
    const form = this.root.querySelector<HTMLElement>(".whatif-add");
    if (nodeSelect === null || peerSelect === null || type === null || at === null || span === null || form === null) return;
    const known = Array.from(nodeSelect.options, (option) => option.value).includes(node);
    if (type.value === "partition" && form.classList.contains("picked") && known && node !== nodeSelect.value) {
      peerSelect.value = node;
      const forS = tUs / 1e6 - Number(at.value);
      if (forS > 0) span.value = forS.toFixed(1);
      form.classList.remove("picked");
      return;
    }
    if (known) nodeSelect.value = node;
    at.value = (tUs / 1e6).toFixed(1);
    form.classList.add("picked");
  }

  private get document(): ScenarioDocument {
    return this.draft ?? this.tree!.get(this.current).document;
  }

  /** The end of the run's virtual time in ms: duration plus settle (a fault in the settle phase is skipped). */
  private endMs(): number {
    return (durationMs(this.document.duration) ?? 60_000) + (durationMs(this.document.settle ?? "30s") ?? 30_000);
  }

  private nodes(): string[] {
    const cluster = (this.document.cluster ?? {}) as { zookeeper?: { servers?: number }; brokers?: number; demo?: { nodes?: number } };
    const names = [
      ...Array.from({ length: cluster.brokers ?? 0 }, (_, i) => `broker-${i + 1}`),
      ...Array.from({ length: cluster.zookeeper?.servers ?? 0 }, (_, i) => `zk-${i + 1}`),
      ...Array.from({ length: cluster.demo?.nodes ?? 0 }, (_, i) => `node-${i + 1}`),
    ];
    const clients = Array.isArray(this.document.clients) ? (this.document.clients as { id?: string }[]).map((c) => c.id).filter((id): id is string => typeof id === "string") : [];
    return [...names, ...clients];
  }

  render(): void {
    if (this.tree === null) {
      this.root.hidden = true;
      return;
    }
    this.root.hidden = false;
    const endMs = this.endMs();
    const durationEnd = durationMs(this.document.duration) ?? endMs;
    const faults = faultsOf(this.document)
      .map((fault, i) => {
        const at = faultAtMs(fault) ?? 0;
        const skipped = at >= durationEnd ? ' <small class="muted">(after duration: skipped while settling)</small>' : "";
        return `<li data-fault="${i}"><span class="fault-label">${esc(describeFault(fault))}</span>${skipped}<br>
          <input type="range" class="fault-time" data-fault="${i}" min="0" max="${endMs}" step="100" value="${at}" title="drag to move this fault">
          <button class="fault-delete" data-fault="${i}" title="delete this fault">✕</button></li>`;
      })
      .join("");
    const types = WHATIF_FAULT_TYPES.map((type) => `<option>${type}</option>`).join("");
    const nodes = this.nodes().map((node) => `<option>${esc(node)}</option>`).join("");
    const tree = this.tree
      .walk()
      .map(([branch, depth]) => {
        const verdict = branch.result === null ? '<span class="muted">not run</span>' : branch.result.expectationMet ? '<span class="verdict-met">✓ met</span>' : '<span class="verdict-failed">✗ not met</span>';
        const violations = branch.result === null ? "" : ` <small>${esc([...new Set(branch.result.violations)].join(", ") || "no violation")}</small>`;
        const compare = branch.parent !== null && branch.result !== null ? ` <a href="#" class="branch-compare" data-branch="${branch.id}">compare</a>` : "";
        return `<li class="branch${branch.id === this.current ? " current" : ""}" data-branch="${branch.id}" data-verdict="${branch.result === null ? "" : branch.result.expectationMet ? "met" : "not-met"}" style="margin-left:${depth * 14}px">
          <a href="#" class="branch-open" data-branch="${branch.id}">${esc(branch.label)}</a> ${verdict}${violations}${compare}</li>`;
      })
      .join("");
    const pending = this.edits.length > 0 ? `<p class="pending">edits: ${esc(this.edits.join("; "))}</p>` : "";
    this.root.innerHTML = `<h3>What if…</h3>
      <p class="muted">Drag a fault's slider to move it, ✕ to delete it, or add one (shift+click a lane on the diagram to pick its node and time), then re-run.</p>
      <ol class="whatif-faults">${faults}</ol>
      <div class="whatif-add"><select id="whatif-type">${types}</select> <select id="whatif-node">${nodes}</select>
        <label class="peer" title="a partition's other side: cut from this node only (empty: from every other node)">and <select id="whatif-peer"><option value="">everyone else</option>${nodes}</select></label>
        at <input id="whatif-at" type="number" min="0" step="0.1" value="10" size="4">s
        for <input id="whatif-for" type="number" min="0" step="0.1" value="3" size="3">s
        <button id="whatif-add">add</button></div>
      ${pending}
      <button id="whatif-run"${this.edits.length === 0 ? " disabled" : ""}>re-run as a new branch</button>
      <h3>Branches</h3><ul class="branches">${tree}</ul>
      <div class="comparison">${this.comparison}</div>
      <p><a href="#" id="whatif-export">download the scenario</a> · <a href="#" id="whatif-link">copy a link to it</a></p>`;
  }

  private onInput(event: Event): void {
    const target = event.target as HTMLInputElement;
    if (!target.classList.contains("fault-time")) return;
    const index = Number(target.dataset.fault);
    const label = target.closest("li")?.querySelector(".fault-label");
    if (label !== null && label !== undefined) label.textContent = describeFault({ ...faultsOf(this.document)[index], at: formatMs(Number(target.value)) });
    // The move becomes an edit when the slider is let go (change), so a drag is one edit.
    target.onchange = () => {
      const fault = faultsOf(this.document)[index];
      this.edit(moveFault(this.document, index, Number(target.value)), `moved the ${String(fault.type)} of ${describeTarget(fault)} to ${formatMs(Number(target.value))}`);
    };
  }

  private edit(document: ScenarioDocument, label: string): void {
    this.draft = document;
    this.edits.push(label);
    this.render();
  }

  private async onClick(event: MouseEvent): Promise<void> {
    const target = (event.target as HTMLElement).closest<HTMLElement>("button, a");
    if (target === null || this.tree === null) return;
    event.preventDefault();
    if (target.classList.contains("fault-delete")) {
      const index = Number(target.dataset.fault);
      const fault = faultsOf(this.document)[index];
      this.edit(deleteFault(this.document, index), `deleted the ${String(fault.type)} of ${describeTarget(fault)}`);
    } else if (target.id === "whatif-add") {
      const type = this.root.querySelector<HTMLSelectElement>("#whatif-type")!.value as WhatIfFaultType;
      const node = this.root.querySelector<HTMLSelectElement>("#whatif-node")!.value;
      const peerValue = this.root.querySelector<HTMLSelectElement>("#whatif-peer")!.value;
      const peer = type === "partition" && peerValue !== "" && peerValue !== node ? peerValue : undefined;
      const atMs = Number(this.root.querySelector<HTMLInputElement>("#whatif-at")!.value) * 1000;
      const forMs = Number(this.root.querySelector<HTMLInputElement>("#whatif-for")!.value) * 1000;
      if (!(atMs >= 0) || !(forMs > 0)) return;
      const what = peer !== undefined ? `a partition between ${node} and ${peer}` : `a ${type} of ${node}`;
      this.edit(addFault(this.document, newFault(type, node, atMs, forMs, peer)), `added ${what} at ${formatMs(atMs)}`);
    } else if (target.id === "whatif-run") {
      const parent = this.current;
      const branch = this.tree.branch(parent, this.edits.join("; "), this.document);
      this.pending = branch.id;
      const run = await this.runs.run(String(branch.document.name ?? "scenario"), JSON.stringify(branch.document), branch.seed);
      if (run === null) {
        // Refused or failed: the branch stays in the tree, not run; the edits stay pending.
        this.pending = null;
        this.render();
      }
    } else if (target.classList.contains("branch-open")) {
      const branch = this.tree.get(Number(target.dataset.branch));
      const run = this.runsById.get(branch.id);
      if (run === undefined) return;
      this.reopening = true;
      try {
        await this.runs.show(run);
      } finally {
        this.reopening = false;
      }
      this.current = branch.id;
      this.draft = null;
      this.edits = [];
      this.render();
    } else if (target.classList.contains("branch-compare")) {
      const branch = this.tree.get(Number(target.dataset.branch));
      this.comparison = compare(this.tree.get(branch.parent!), branch);
      this.render();
    } else if (target.id === "whatif-export") {
      const blob = new Blob([JSON.stringify(this.document, null, 2) + "\n"], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${String(this.document.name ?? "scenario")}-whatif.json`;
      link.click();
      URL.revokeObjectURL(link.href);
    } else if (target.id === "whatif-link") {
      const seed = this.tree.get(this.current).seed;
      const url = `${location.origin}${location.pathname}#s=${await encodeScenario(this.document, seed)}`;
      this.root.dataset.link = url;
      await navigator.clipboard?.writeText(url).catch(() => undefined);
      target.textContent = "link copied";
    }
  }
}

function describeTarget(fault: Record<string, unknown>): string {
  const target = fault.node ?? fault.nodes ?? fault.groups;
  return typeof target === "string" ? target : JSON.stringify(target);
}

/** Two runs side by side: violations by name, the first trace line where they part, each replica's log at the end. */
function compare(left: Branch, right: Branch): string {
  if (left.result === null || right.result === null || left.trace === null || right.trace === null) return "";
  const rows = [...violationCounts(left.result.violations, right.result.violations)].map(([name, [a, b]]) => `<tr><td>${esc(name)}</td><td>${a}</td><td>${b}</td></tr>`);
  const parted = firstDivergingLine(left.trace, right.trace);
  const partedText =
    parted === null
      ? "<p>The traces are identical.</p>"
      : `<p>They part at trace line ${parted.line}:</p><pre class="parted">${esc((parted.left ?? "(ended)").slice(0, 240))}\n${esc((parted.right ?? "(ended)").slice(0, 240))}</pre>`;
  return `<h4>${esc(left.label)} ⟷ ${esc(right.label)}</h4>
    <table class="side-by-side"><tr><th>violation</th><th>${esc(left.label)}</th><th>${esc(right.label)}</th></tr>${rows.join("") || '<tr><td colspan="3">none in either</td></tr>'}</table>
    ${partedText}<table class="side-by-side"><tr><th>replica at the end</th><th>LEO / HW</th><th>LEO / HW</th></tr>${logEnds(left.trace, right.trace)}</table>`;
}

function logEnds(leftTrace: string, rightTrace: string): string {
  const endState = (text: string) => {
    const { header, events } = parseTraceText(text);
    return Timeline.build(header, events).stateAt(events.length - 1);
  };
  const left = endState(leftTrace);
  const right = endState(rightTrace);
  const rows: string[] = [];
  for (const partition of left.partitions) {
    const other = right.partitions.find((p) => p.topicPartition === partition.topicPartition);
    for (const replica of partition.replicaViews) {
      const twin = other?.replicaViews.find((r) => r.brokerId === replica.brokerId);
      rows.push(`<tr><td>${esc(partition.topicPartition)} ${esc(replica.host)}</td><td>${replica.logEndOffset} / ${replica.highWatermark}</td><td>${twin === undefined ? "—" : `${twin.logEndOffset} / ${twin.highWatermark}`}</td></tr>`);
    }
  }
  return rows.join("");
}
