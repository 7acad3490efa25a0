/**
 * `kafkasim compare FILE --presets 2.0,2.4,3.x [--seeds N] [--first-seed S] [--json]`: the era comparison — one
 * scenario run under several Kafka version presets over the same seeds (in this process, as explore runs a seed:
 * checkers on, no trace), and a table of violations per preset: how many seeds showed each violation, how many met
 * the file's expectation, and model errors apart. Each preset replaces the file's cluster.version before
 * validation (run-command.ts loadWithPreset), so an era's own loading rules apply; a preset the file cannot run
 * under is reported as such, not as a failure of the others.
 */

import { KAFKA_VERSIONS } from "../broker/config.ts";
import { ScenarioError } from "../scenario/load.ts";
import { runScenario } from "../scenario/run.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { loadWithPreset } from "./run-command.ts";
import { chalk } from "./style.ts";

export interface CompareOptions {
  presets?: string;
  seeds?: string;
  firstSeed?: string;
  json?: boolean;
}

export interface PresetRow {
  preset: string;
  /** Why the file cannot run under this preset (the loader's line), or null. */
  refused: string | null;
  seeds: number;
  expectationMet: number;
  modelErrors: number;
  /** violation name → seeds showing it. */
  violations: Record<string, number>;
}

/** At most this many seeds per preset (each is a whole run in this process). */
const MAX_SEEDS = 1000;

export function compareCommand(file: string, options: CompareOptions): number {
  const presets = (options.presets ?? KAFKA_VERSIONS.join(",")).split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  for (const preset of presets) {
    if (!(KAFKA_VERSIONS as readonly string[]).includes(preset)) {
      throw new UsageError(`--presets: expected a comma-separated list of ${KAFKA_VERSIONS.map((v) => `"${v}"`).join(", ")}, found "${preset}"`);
    }
  }
  const seeds = parseCount(options.seeds ?? "5", "--seeds", 1, MAX_SEEDS);
  const firstSeed = parseCount(options.firstSeed ?? "1", "--first-seed", 0, Number.MAX_SAFE_INTEGER);
  const rows = presets.map((preset) => compareOne(file, preset, firstSeed, seeds));
  if (options.json === true) {
    process.stdout.write(JSON.stringify({ file, firstSeed, seeds, presets: rows }) + "\n");
    return EXIT_OK;
  }
  process.stdout.write(formatComparison(file, firstSeed, seeds, rows).join("\n") + "\n");
  return EXIT_OK;
}

function parseCount(value: string, flag: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, found "${value}"`);
  return n;
}

function compareOne(file: string, preset: string, firstSeed: number, seeds: number): PresetRow {
  const row: PresetRow = { preset, refused: null, seeds: 0, expectationMet: 0, modelErrors: 0, violations: {} };
  let scenario;
  try {
    scenario = loadWithPreset(file, preset);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    // The first problem (a table cell holds one line); `run --version-preset` lists them all.
    const more = error.problems.length - 1;
    row.refused = `${error.file}: ${error.path}: ${error.expected}${more > 0 ? ` (and ${more} more)` : ""}`;
    return row;
  }
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const result = runScenario(scenario, { seed, hash: false });
    row.seeds++;
    if (result.expectationMet) row.expectationMet++;
    if (result.error !== undefined) row.modelErrors++;
    for (const name of new Set(result.violations.map((v) => v.name))) row.violations[name] = (row.violations[name] ?? 0) + 1;
  }
  return row;
}

export function formatComparison(file: string, firstSeed: number, seeds: number, rows: readonly PresetRow[]): string[] {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row.violations)))].sort();
  const out = [chalk.bold(`${file}: seeds ${firstSeed}…${firstSeed + seeds - 1} under each preset (seeds showing each violation)`)];
  const header = ["preset", "expectation met", ...names, "model errors"];
  const cells = rows.map((row) =>
    row.refused !== null
      ? [row.preset, "refused", ...names.map(() => ""), ""]
      : [row.preset, `${row.expectationMet}/${row.seeds}`, ...names.map((name) => String(row.violations[name] ?? 0)), String(row.modelErrors)],
  );
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i].length)));
  const line = (values: string[]) => ("  " + values.map((value, i) => value.padEnd(widths[i])).join("  ")).trimEnd();
  out.push(line(header));
  for (const [i, values] of cells.entries()) {
    const text = line(values);
    out.push(rows[i].refused !== null ? chalk.dim(text) : Object.keys(rows[i].violations).length > 0 ? chalk.red(text) : text);
  }
  if (names.length === 0) out.push(chalk.dim("  no violation under any preset"));
  for (const row of rows) if (row.refused !== null) out.push(chalk.dim(`  ${row.preset}: ${row.refused}`));
  return out;
}
