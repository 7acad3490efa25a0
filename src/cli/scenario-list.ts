/**
 * Groups the built-in scenarios for `kafkasim list` (pure, testable without files). A scenario whose
 * `expect` lists violations is a known failure; a scenario that expects none is the fixed or safe
 * counterpart of a failure when it shares the failure's name stem ("kip-101-fixed" / "kip-101-data-loss",
 * "zombie-controller-fenced" / "zombie-controller") or names it in its description; the rest teach.
 */

export type ScenarioGroup = "teaching" | "failure" | "counterpart";

export const GROUP_TITLES: ReadonlyArray<readonly [ScenarioGroup, string]> = [
  ["teaching", "Teaching scenarios"],
  ["failure", "Known failures (historical configurations that show a violation)"],
  ["counterpart", "Fixed and safe counterparts (the same story with today's settings: no violation)"],
];

export interface ScenarioEntry {
  file: string;
  name: string;
  description: string;
  expectedViolations: string[];
  nemesis: boolean;
  /** The Kafka era preset it runs under (cluster.version, "3.x" by default; "+compat" with switches of its own); null without brokers. */
  version?: string | null;
}

export interface GroupedScenario extends ScenarioEntry {
  group: ScenarioGroup;
  /** The first sentence of the description, at most SUMMARY_MAX characters. */
  summary: string;
  /** For a counterpart: the failure scenario it fixes. */
  counterpartOf?: string;
}

const SUMMARY_MAX = 96;

export function firstSentence(text: string, max = SUMMARY_MAX): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const match = /^(.*?[.!?])(?= [A-Z(]|$)/.exec(flat);
  const sentence = match === null ? flat : match[1];
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

/** How many leading dash-separated words two names share ("kip-101-fixed", "kip-101-data-loss" → 2). */
function sharedWords(a: string, b: string): number {
  const left = a.split("-");
  const right = b.split("-");
  let shared = 0;
  while (shared < left.length && shared < right.length && left[shared] === right[shared]) shared++;
  return shared;
}

/** The failure sharing the longest name stem (two words at least), else the first one the description names. */
function counterpartOf(entry: ScenarioEntry, failures: readonly ScenarioEntry[]): string | undefined {
  let best: ScenarioEntry | undefined;
  let bestShared = 1;
  for (const failure of failures) {
    const shared = sharedWords(entry.name, failure.name);
    if (shared > bestShared) {
      best = failure;
      bestShared = shared;
    }
  }
  if (best !== undefined) return best.name;
  for (const failure of failures) {
    const escaped = failure.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`(^|[^\\w-])${escaped}([^\\w-]|$)`).test(entry.description)) return failure.name;
  }
  return undefined;
}

/** Entries in their input order, each with its group, summary and counterpart. */
export function groupScenarios(entries: readonly ScenarioEntry[]): GroupedScenario[] {
  const failures = entries.filter((entry) => entry.expectedViolations.length > 0);
  return entries.map((entry) => {
    const summary = firstSentence(entry.description);
    if (entry.expectedViolations.length > 0) return { ...entry, group: "failure", summary };
    const twin = counterpartOf(entry, failures);
    return twin === undefined ? { ...entry, group: "teaching", summary } : { ...entry, group: "counterpart", summary, counterpartOf: twin };
  });
}
