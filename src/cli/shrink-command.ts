/**
 * `kafkasim shrink FILE [--seed N] -o OUT [--violation NAME] [--max-runs N] [--json]`: runs the scenario with
 * the seed, and when it shows a violation, minimises its fault schedule (src/scenario/shrink.ts) and writes a
 * scenario file that replays it (`kafkasim run OUT`). Exits 0 when it wrote one, 1 when the run shows no
 * violation to shrink (or the explicit schedule loses it), 2 on bad input.
 */

import cliProgress from "cli-progress";
import { parseScenarioText, validateScenario } from "../scenario/load.ts";
import { DEFAULT_MAX_RUNS, formatDurationUs, shrinkScenario, type ShrinkPhase, type ShrinkProgress } from "../scenario/shrink.ts";
import { VIOLATION_NAMES, type ViolationName } from "../scenario/spec.ts";
import { EXIT_EXPECTATION_FAILED, EXIT_OK, UsageError, parseSeed } from "./errors.ts";
import { AtomicLineFile, readInput } from "./files.ts";
import { chalk } from "./style.ts";

export interface ShrinkCommandOptions {
  seed?: string;
  output: string;
  violation?: string;
  maxRuns?: string;
  json?: boolean;
}

export function shrinkCommand(file: string, options: ShrinkCommandOptions, wallClock: () => number): number {
  const raw = parseScenarioText(readInput(file), file);
  const scenario = validateScenario(raw, file); // bad input: one line, exit 2, before any run
  const seed = options.seed !== undefined ? parseSeed(options.seed) : scenario.seed;
  const maxRuns = options.maxRuns !== undefined ? parseMaxRuns(options.maxRuns) : DEFAULT_MAX_RUNS;
  const violation = options.violation !== undefined ? parseViolation(options.violation) : undefined;

  const progress = progressReporter(scenario.name, maxRuns);
  const started = wallClock();
  let result;
  try {
    result = shrinkScenario(raw as Record<string, unknown>, { seed, file, violation, maxRuns, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const wallMs = Math.round(wallClock() - started);

  if (result.status !== "shrunk") {
    const why =
      result.status === "no-violation"
        ? violation !== undefined
          ? `no ${violation} with seed ${seed} (violations: ${result.violations.join(", ") || "none"}): nothing to shrink`
          : `no violation with seed ${seed}: nothing to shrink`
        : `${result.violation} appeared with seed ${seed}, but ${result.reason}`;
    if (options.json) process.stdout.write(JSON.stringify({ scenario: scenario.name, seed, ...result, wallMs }) + "\n");
    else process.stdout.write(`${chalk.bold(scenario.name)}  ${chalk.yellow(why)}\n`);
    return EXIT_EXPECTATION_FAILED;
  }

  const out = new AtomicLineFile(options.output);
  out.write(JSON.stringify(result.scenario, null, 2));
  out.commit();

  const { counts, durationUs, runs } = result;
  if (options.json) {
    const { scenario: _document, ...summary } = result;
    process.stdout.write(JSON.stringify({ scenario: scenario.name, seed, output: options.output, ...summary, wallMs }) + "\n");
    return EXIT_OK;
  }
  const nemesis = counts.nemesis > 0 ? ` (${counts.listed} listed, ${counts.nemesis} from the nemesis)` : "";
  const lines = [
    `${chalk.bold(scenario.name)}  seed ${seed}: ${chalk.red(result.violation)}`,
    `  faults ${counts.explicit}${nemesis} → ${chalk.bold(String(counts.shrunk))}, duration ${formatDurationUs(durationUs.before)} → ${formatDurationUs(durationUs.after)}`,
    chalk.dim(`  ${runs} runs in ${(wallMs / 1000).toFixed(1)} s wall (${Math.round(wallMs / Math.max(1, runs))} ms per run)` + (result.exhausted ? ", run budget spent (raise --max-runs to shrink further)" : "")),
    `${chalk.green("✓")} written to ${options.output}; replay it with: kafkasim run ${options.output}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT_OK;
}

function parseMaxRuns(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 2) throw new UsageError(`--max-runs: expected an integer of at least 2, found "${text}"`);
  return value;
}

function parseViolation(text: string): ViolationName {
  if (!(VIOLATION_NAMES as readonly string[]).includes(text)) {
    throw new UsageError(`--violation: expected one of ${VIOLATION_NAMES.join(", ")}, found "${text}"`);
  }
  return text as ViolationName;
}

/** A progress bar of runs on a terminal; elsewhere one stderr line per phase. */
function progressReporter(name: string, maxRuns: number): { update(progress: ShrinkProgress): void; stop(): void } {
  if (process.stderr.isTTY !== true) {
    let phase: ShrinkPhase | null = null;
    return {
      update(progress) {
        if (progress.phase === phase) return;
        phase = progress.phase;
        process.stderr.write(`shrink ${name}: ${progress.phase}, ${progress.faults} faults, ${progress.runs}/${progress.maxRuns} runs\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `shrink ${name} |{bar}| {value}/{total} runs | {phase} | {faults} faults | {duration_formatted} elapsed`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(maxRuns, 0, { phase: "record", faults: 0 });
  return {
    update(progress) {
      bar.update(Math.min(progress.runs, maxRuns), { phase: progress.phase, faults: progress.faults });
    },
    stop() {
      bar.stop();
    },
  };
}
