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

/** A scenario document's entry (`fileName` gives the name when the document has none); not validated. */
export function scenarioEntry(file: string, fileName: string, document: unknown): ScenarioEntry {
  const value = (typeof document === "object" && document !== null ? document : {}) as Record<string, unknown>;
  return {
    file,
    name: typeof value.name === "string" ? value.name : fileName.replace(/\.\w+$/, ""),
    description: typeof value.description === "string" ? value.description : "",
    expectedViolations: expectedViolations(value.expect),
    nemesis: value.nemesis !== undefined,
    version: versionOf(value.cluster),
  };
}

/**
 * The Kafka era a scenario runs under: its cluster.version ("3.x" when it has brokers and none), with "+compat" when
 * it also sets compat switches of its own; null without brokers.
 */
function versionOf(cluster: unknown): string | null {
  if (typeof cluster !== "object" || cluster === null) return null;
  const { version, brokers, compat } = cluster as { version?: unknown; brokers?: unknown; compat?: unknown };
  if (typeof brokers !== "number" || brokers === 0) return null;
  const preset = typeof version === "string" ? version : "3.x";
  const ownSwitches = typeof compat === "object" && compat !== null && Object.keys(compat).length > 0;
  return ownSwitches ? `${preset}+compat` : preset;
}

function expectedViolations(expect: unknown): string[] {
  if (typeof expect !== "object" || expect === null) return [];
  const { violations, events } = expect as { violations?: unknown; events?: unknown };
  const names = Array.isArray(violations) ? violations.filter((name): name is string => typeof name === "string") : [];
  return [...names, ...(Array.isArray(events) ? events.map(failureEvent).filter((label): label is string => label !== null) : [])];
}

/**
 * An expect.events entry that shows a failure that is not a violation (issue 17's era differences): a must-show
 * (min >= 1) broker halt, or a must-show event carrying a client error (`where.error`). Labelled as
 * "broker-halted" or "producer-retry NOT_ENOUGH_REPLICAS"; null for any other expected event.
 */
function failureEvent(event: unknown): string | null {
  if (typeof event !== "object" || event === null) return null;
  const { kind, where, min, max } = event as { kind?: unknown; where?: unknown; min?: unknown; max?: unknown };
  const mustShow = typeof min === "number" ? min >= 1 : max === undefined;
  if (!mustShow || typeof kind !== "string") return null;
  const error = typeof where === "object" && where !== null ? (where as { error?: unknown }).error : undefined;
  if (typeof error === "string") return `${kind} ${error}`;
  return kind === "broker-halted" ? kind : null;
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
