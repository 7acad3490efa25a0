/**
 * The messages between the viewer and the simulator's Web Worker (web/src/sim/worker.ts). The page sends one
 * `run` request; the worker answers with `progress` messages carrying the trace lines produced since the last one
 * (so the page holds the trace as it grows), then one `done` with the run's summary, or one `failed` with the
 * one-line reason a scenario was refused (the loader's messages, as `kafkasim run` prints them).
 */

export interface RunRequest {
  type: "run";
  /** The scenario document (JSON text), as a file would hold it. */
  text: string;
  /** Its name for messages ("kip-101-data-loss.json"). */
  file: string;
  /** Overrides the scenario's seed. */
  seed?: number | string;
}

export interface RunProgress {
  type: "progress";
  /** Virtual time reached, µs. */
  t: number;
  /** The run's end in virtual time (duration + settle), µs. */
  endT: number;
  /** Trace lines produced since the last message. */
  lines: string[];
}

export interface RunSummary {
  scenario: string;
  seed: number | string;
  verdict: string;
  expectationMet: boolean;
  expectationProblems: string[];
  violations: { name: string; time: number; nodes: string[] }[];
  events: number;
  traceHash: string;
  /** Wall time of the run in the worker, ms. */
  wallMs: number;
  error?: string;
}

export interface RunDone {
  type: "done";
  lines: string[];
  summary: RunSummary;
}

export interface RunFailed {
  type: "failed";
  /** One line per problem ("s.json: $.clients[0].config.acks: expected one of …"). */
  problems: string[];
}

export type WorkerMessage = RunProgress | RunDone | RunFailed;
