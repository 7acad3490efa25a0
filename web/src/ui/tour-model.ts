/**
 * Guided tours without the DOM: each stop of a scenario's `tour` (src/scenario/tour.ts) resolved to the index of
 * the trace event it talks about — the `nth` event of its kind, on its node, whose fields equal its `where` — or
 * -1 for a stop without an event (or whose event the run did not produce: the panel then says so).
 */

import type { TraceEvent } from "../../../src/sim/trace.ts";

export interface TourEventSelector {
  kind: string;
  node?: string;
  where?: Record<string, string | number | boolean | null>;
  nth?: number;
}

export interface TourStopSpec {
  text: string;
  event?: TourEventSelector;
  partition?: string;
}

export interface ResolvedStop extends TourStopSpec {
  /** Index into the trace's events; -1 when the stop names none or the run has none. */
  index: number;
  /** The stop names an event this run did not produce. */
  missing: boolean;
}

function matches(event: TraceEvent, selector: TourEventSelector): boolean {
  if (event.kind !== selector.kind) return false;
  if (selector.node !== undefined && event.node !== selector.node) return false;
  if (selector.where === undefined) return true;
  for (const [key, value] of Object.entries(selector.where)) if ((event as Record<string, unknown>)[key] !== value) return false;
  return true;
}

export function resolveTour(stops: readonly TourStopSpec[], events: readonly TraceEvent[]): ResolvedStop[] {
  return stops.map((stop) => {
    if (stop.event === undefined) return { ...stop, index: -1, missing: false };
    let seen = 0;
    const nth = stop.event.nth ?? 1;
    for (let i = 0; i < events.length; i++) {
      if (matches(events[i], stop.event) && ++seen === nth) return { ...stop, index: i, missing: false };
    }
    return { ...stop, index: -1, missing: true };
  });
}

/** A scenario document's tour, if it has one (unvalidated documents: anything else is no tour). */
export function tourOf(document: unknown): TourStopSpec[] | null {
  if (typeof document !== "object" || document === null) return null;
  const tour = (document as { tour?: unknown }).tour;
  return Array.isArray(tour) && tour.length > 0 ? (tour as TourStopSpec[]) : null;
}
