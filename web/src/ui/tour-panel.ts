/**
 * The tour panel: a scenario's guided tour (its `tour` stops) one stop at a time. "next" jumps to the event the
 * stop talks about, rings it on the diagram and opens the inspector on the stop's partition; "back" returns.
 * The tour comes from the scenario document of a browser run, or, for a trace opened from a file, from the
 * built-in scenario of the same name.
 */

import type { TraceEvent } from "../../../src/sim/trace.ts";
import { resolveTour, type ResolvedStop, type TourStopSpec } from "./tour-model.ts";

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export interface TourTarget {
  /** Seeks to event `index`, rings it on the diagram, and focuses the inspector on `partition`. */
  showStop(index: number, partition: string | undefined): void;
}

export class TourPanel {
  private stops: ResolvedStop[] = [];
  private at = -1;

  constructor(
    private readonly root: HTMLElement,
    private readonly target: () => TourTarget | null,
  ) {
    root.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest("button");
      if (button === null) return;
      if (button.id === "tour-next") this.go(this.at + 1);
      else if (button.id === "tour-back") this.go(this.at - 1);
    });
  }

  /** A new trace is on screen: its tour (or none). */
  load(name: string, tour: readonly TourStopSpec[] | null, events: readonly TraceEvent[]): void {
    this.stops = tour === null ? [] : resolveTour(tour, events);
    this.at = -1;
    this.root.hidden = this.stops.length === 0;
    this.root.dataset.scenario = name;
    this.render();
  }

  go(stop: number): void {
    if (stop < 0 || stop >= this.stops.length) return;
    this.at = stop;
    const current = this.stops[stop];
    if (current.index >= 0) this.target()?.showStop(current.index, current.partition);
    this.render();
  }

  private render(): void {
    if (this.stops.length === 0) {
      this.root.innerHTML = "";
      return;
    }
    this.root.dataset.stop = String(this.at);
    if (this.at < 0) {
      this.root.innerHTML = `<h3>Guided tour</h3><p>${this.stops.length} stops walk through this run.</p><button id="tour-next">start the tour ›</button>`;
      return;
    }
    const stop = this.stops[this.at];
    const missing = stop.missing ? '<p class="muted">(this run has no such event: with another seed or an edit, the story changed)</p>' : "";
    this.root.innerHTML = `<h3>Guided tour <small class="muted">stop ${this.at + 1} of ${this.stops.length}</small></h3>
      <p class="tour-text">${esc(stop.text)}</p>${missing}
      <button id="tour-back"${this.at === 0 ? " disabled" : ""}>‹ back</button>
      <button id="tour-next"${this.at === this.stops.length - 1 ? " disabled" : ""}>next ›</button>`;
  }
}
