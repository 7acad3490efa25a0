/**
 * Runs scenarios in the browser: the built-in library (web/dist/scenarios.json, grouped as `kafkasim list` groups
 * it) in a picker, a seed box, a run button and a progress bar. A run goes to the simulator's Web Worker
 * (dist/sim-worker.js, the model under src/ bundled for the browser), which streams the trace's lines back as
 * virtual time passes; a long run is redrawn from the trace so far every 1.5 s or so; when it ends the page opens the
 * trace in the viewer, and the status line gives the verdict
 * and the trace hash — the same hash `kafkasim run` prints for that scenario and seed.
 */

import { groupScenarios, GROUP_TITLES, scenarioEntry, type GroupedScenario } from "../../../src/cli/scenario-list.ts";
import type { RunRequest, RunSummary, WorkerMessage } from "../sim/protocol.ts";

export interface LibraryScenario extends GroupedScenario {
  /** The scenario file's text. */
  text: string;
}

/** A finished browser run: the scenario it ran, its trace and its summary. */
export interface BrowserRun {
  name: string;
  text: string;
  seed: number | string | undefined;
  traceText: string;
  summary: RunSummary;
}

/** Wall time between two redraws of a running trace. */
const PARTIAL_EVERY_MS = 1500;

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** The library from scenarios.json ([{file, text}]), grouped; a file that is not JSON is skipped. */
export function libraryOf(files: readonly { file: string; text: string }[]): LibraryScenario[] {
  const entries = [];
  const texts = new Map<string, string>();
  for (const { file, text } of files) {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      continue;
    }
    entries.push(scenarioEntry(file, file, document));
    texts.set(file, text);
  }
  return groupScenarios(entries).map((entry) => ({ ...entry, text: texts.get(entry.file)! }));
}

export class RunPanel {
  private worker: Worker | null = null;
  library: LibraryScenario[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly workerUrl: string,
    private readonly opened: (run: BrowserRun) => Promise<void>,
    /** Shows the trace so far while a run goes on (the viewer redrawn from the lines received). */
    private readonly partial?: (name: string, traceText: string, t: number, endT: number) => Promise<void>,
  ) {}

  /** Loads the library and draws the picker; without a library (an old server) the panel stays hidden. */
  async init(libraryUrl: string): Promise<boolean> {
    try {
      const response = await fetch(libraryUrl);
      if (!response.ok) return false;
      this.library = libraryOf((await response.json()) as { file: string; text: string }[]);
    } catch {
      return false;
    }
    const options = GROUP_TITLES.map(([group, title]) => {
      const members = this.library.filter((entry) => entry.group === group);
      if (members.length === 0) return "";
      const items = members.map((entry) => `<option value="${esc(entry.name)}" title="${esc(entry.summary)}">${esc(entry.name)}${entry.expectedViolations.length > 0 ? ` — shows ${esc(entry.expectedViolations.join(", "))}` : ""}</option>`);
      return `<optgroup label="${esc(title)}">${items.join("")}</optgroup>`;
    });
    this.root.innerHTML =
      `<select id="scenario" title="a built-in scenario (kafkasim list)">${options.join("")}</select>` +
      `<label title="the run's seed (empty: the scenario's own)">seed <input id="seed" type="text" inputmode="numeric" size="5" placeholder="own"></label>` +
      `<button id="run" title="run the scenario in this browser">run</button>` +
      `<progress id="run-progress" max="1" value="0" hidden></progress>`;
    this.root.hidden = false;
    const select = this.root.querySelector<HTMLSelectElement>("#scenario")!;
    const wanted = new URLSearchParams(location.search).get("scenario");
    select.value = wanted !== null && this.library.some((entry) => entry.name === wanted) ? wanted : (this.library.find((entry) => entry.name === "kip-101-data-loss")?.name ?? this.library[0]?.name ?? "");
    this.root.querySelector<HTMLButtonElement>("#run")!.onclick = () => {
      const entry = this.library.find((item) => item.name === select.value);
      if (entry !== undefined) void this.run(entry.name, entry.text, this.seed());
    };
    return true;
  }

  /** The seed box: empty is the scenario's own seed; digits a number; anything else a string seed. */
  private seed(): number | string | undefined {
    const text = this.root.querySelector<HTMLInputElement>("#seed")!.value.trim();
    if (text === "") return undefined;
    return /^-?\d+$/.test(text) ? Number(text) : text;
  }

  /** Opens a finished run again (a branch of the what-if tree). */
  show(run: BrowserRun): Promise<void> {
    return this.opened(run);
  }

  /** Runs a scenario text in the worker (a run in progress is stopped first) and opens its trace. */
  run(name: string, text: string, seed: number | string | undefined): Promise<BrowserRun | null> {
    this.worker?.terminate();
    const worker = new Worker(this.workerUrl);
    this.worker = worker;
    const progress = this.root.querySelector<HTMLProgressElement>("#run-progress");
    const status = document.getElementById("status")!;
    const lines: string[] = [];
    status.classList.remove("error");
    status.textContent = `running ${name} in the browser…`;
    document.body.dataset.running = "true";
    if (progress !== null) {
      progress.hidden = false;
      progress.value = 0;
    }
    // The viewer is redrawn from the trace so far every PARTIAL_EVERY_MS of wall time, or twice as long as the last
    // redraw took (a redraw reads the whole trace so far), so a long run shows its first faults while it goes on.
    let nextPartial = performance.now() + PARTIAL_EVERY_MS;
    let drawing = false;
    return new Promise((resolve) => {
      const finish = (): void => {
        worker.terminate();
        if (this.worker === worker) this.worker = null;
        if (progress !== null) progress.hidden = true;
        delete document.body.dataset.running;
      };
      worker.onmessage = async (event: MessageEvent<WorkerMessage>) => {
        const message = event.data;
        if (message.type === "progress") {
          for (const line of message.lines) lines.push(line);
          if (progress !== null) progress.value = Math.min(1, message.t / Math.max(1, message.endT));
          status.textContent = `running ${name}: ${(message.t / 1e6).toFixed(0)} of ${(message.endT / 1e6).toFixed(0)} simulated s…`;
          if (this.partial !== undefined && !drawing && performance.now() >= nextPartial && this.worker === worker) {
            drawing = true;
            const started = performance.now();
            await this.partial(name, lines.join("\n"), message.t, message.endT);
            const took = performance.now() - started;
            nextPartial = performance.now() + Math.max(PARTIAL_EVERY_MS, 2 * took);
            drawing = false;
          }
          return;
        }
        finish();
        if (message.type === "failed") {
          status.textContent = message.problems.join(" · ");
          status.classList.add("error");
          document.body.dataset.ready = "error";
          resolve(null);
          return;
        }
        for (const line of message.lines) lines.push(line);
        const run: BrowserRun = { name, text, seed, traceText: lines.join("\n"), summary: message.summary };
        await this.opened(run);
        resolve(run);
      };
      worker.onerror = (event) => {
        finish();
        status.textContent = `${name}: the simulator failed (${event.message})`;
        status.classList.add("error");
        document.body.dataset.ready = "error";
        resolve(null);
      };
      const request: RunRequest = { type: "run", text, file: `${name}.json`, seed };
      worker.postMessage(request);
    });
  }
}
