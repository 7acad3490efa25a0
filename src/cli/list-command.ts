/**
 * `kafkasim list [--json]`: the built-in scenarios shipped in scenarios/ beside the package, one line
 * each (name, the Kafka era preset it runs under, and the first sentence of its description), grouped: known failures (the scenario expects a
 * violation), their fixed or safe counterparts, and teaching scenarios.
 */

import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseScenarioText } from "../scenario/load.ts";
import { editDistance } from "../scenario/load-issues.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { readInput } from "./files.ts";
import { groupScenarios, GROUP_TITLES, scenarioEntry, type ScenarioEntry } from "./scenario-list.ts";
import { chalk } from "./style.ts";

export interface ListCommandOptions {
  json?: boolean;
}

/**
 * scenarios/ next to the package: two levels up from src/cli/ (running from source) or one up from
 * dist/cli.js (the bundle).
 */
export function builtInScenarioDir(): string {
  for (const relative of ["../scenarios/", "../../scenarios/"]) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(join(dir, "..", "package.json")) && existsSync(dir)) return dir;
  }
  throw new UsageError("cannot find the built-in scenarios directory next to the kafkasim package");
}

/**
 * A scenario argument: a file that exists, else the built-in scenario of that name (`kip-101-data-loss`, with or
 * without .json), else a usage error naming the closest built-in names.
 */
export function scenarioArgument(argument: string): string {
  if (existsSync(argument) || /[\\/]/.test(argument)) return argument;
  let dir: string;
  try {
    dir = builtInScenarioDir();
  } catch {
    return argument;
  }
  const names = readdirSync(dir).filter((name) => /\.(json|ya?ml)$/.test(name));
  const wanted = argument.replace(/\.(json|ya?ml)$/, "");
  const match = names.find((name) => name.replace(/\.(json|ya?ml)$/, "") === wanted);
  if (match !== undefined) return join(dir, match);
  const stems = names.map((name) => name.replace(/\.(json|ya?ml)$/, ""));
  const close = stems.filter((stem) => stem.includes(wanted) || editDistance(stem, wanted) <= 3).slice(0, 5);
  const hint = close.length > 0 ? `; built-in scenarios with a close name: ${close.join(", ")}` : "";
  throw new UsageError(`${argument}: cannot read the file (no such file); no built-in scenario has that name either (kafkasim list shows them)${hint}`);
}

export function listCommand(options: ListCommandOptions): number {
  const dir = builtInScenarioDir();
  const files = readdirSync(dir)
    .filter((name) => /\.(json|ya?ml)$/.test(name))
    .sort();
  const entries: ScenarioEntry[] = files.map((name) => {
    const path = join(dir, name);
    try {
      return scenarioEntry(path, name, parseScenarioText(readInput(path), path));
    } catch (error) {
      return { file: path, name: name.replace(/\.\w+$/, ""), description: `(unreadable: ${(error as Error).message})`, expectedViolations: [], nemesis: false };
    }
  });
  const grouped = groupScenarios(entries);

  if (options.json) {
    process.stdout.write(JSON.stringify(grouped) + "\n");
    return EXIT_OK;
  }
  const width = Math.max(...grouped.map((entry) => entry.name.length));
  const versionWidth = Math.max(...grouped.map((entry) => (entry.version ?? "").length));
  const out: string[] = [];
  for (const [group, title] of GROUP_TITLES) {
    const members = grouped.filter((entry) => entry.group === group);
    if (members.length === 0) continue;
    if (out.length > 0) out.push("");
    out.push(chalk.bold(title));
    for (const entry of members) {
      const note = entry.counterpartOf !== undefined ? chalk.dim(` (safe twin of ${entry.counterpartOf})`) : "";
      const shows = entry.expectedViolations.length > 0 ? chalk.red(` [shows ${entry.expectedViolations.join(", ")}]`) : "";
      const version = (entry.version ?? "").padEnd(versionWidth);
      out.push(`  ${chalk.cyan(entry.name.padEnd(width))}  ${chalk.magenta(version)}  ${entry.summary}${shows}${note}`);
    }
  }
  out.push("", chalk.dim(`run one by name: kafkasim run <name>   (the files are in ${dir})`));
  process.stdout.write(out.join("\n") + "\n");
  return EXIT_OK;
}
