/**
 * The simulator in a Web Worker: the model under src/ touches no file, clock or process, so the browser runs the
 * same code as `kafkasim run` — validateScenario, then runScenario with the trace hash — and the trace lines and
 * the hash are the CLI's, byte for byte. Lines are posted in batches as virtual time passes (every simulated
 * second), so the page can show progress and hold the trace as it grows. The worker's wall clock only times the
 * run for display; it never reaches the model.
 */

import { parseScenarioText, ScenarioError, validateScenario } from "../../../src/scenario/load.ts";
import { runScenario } from "../../../src/scenario/run.ts";
import { parseDuration } from "../../../src/sim/time.ts";
import type { TraceSink } from "../../../src/sim/trace.ts";
import type { RunRequest, WorkerMessage } from "./protocol.ts";

const post = (message: WorkerMessage): void => (self as unknown as { postMessage(message: WorkerMessage): void }).postMessage(message);

/** Collects lines between two progress messages. */
class BatchSink implements TraceSink {
  lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  take(): string[] {
    const lines = this.lines;
    this.lines = [];
    return lines;
  }
}

export function handle(request: RunRequest): void {
  let scenario;
  try {
    scenario = validateScenario(parseScenarioText(request.text, request.file), request.file);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    post({ type: "failed", problems: error.message.split("\n") });
    return;
  }
  const endT = parseDuration(scenario.duration)! + parseDuration(scenario.settle)!;
  const sink = new BatchSink();
  const started = performance.now();
  const result = runScenario(scenario, {
    seed: request.seed,
    sinks: [sink],
    onProgress: (t) => post({ type: "progress", t, endT, lines: sink.take() }),
  });
  const wallMs = performance.now() - started;
  post({
    type: "done",
    lines: sink.take(),
    summary: {
      scenario: result.scenario,
      seed: result.seed,
      verdict: result.verdict,
      expectationMet: result.expectationMet,
      expectationProblems: result.expectationProblems,
      violations: result.violations.map((v) => ({ name: v.name, time: v.time, nodes: v.nodes })),
      events: result.stats.events,
      traceHash: result.stats.traceHash,
      wallMs,
      error: result.error,
    },
  });
}

self.onmessage = (event: MessageEvent<RunRequest>) => {
  if (event.data?.type === "run") handle(event.data);
};
