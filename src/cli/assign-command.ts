/**
 * `kafkasim assign [FILE] [--assignor NAME] [--all] [--json]`: runs Kafka's consumer partition assignors
 * (range, roundrobin, sticky, cooperative-sticky — the group leader's step of a rebalance) on a group
 * described in a JSON file (or stdin): topics with partition counts, members with their subscriptions and
 * what they owned before. Prints the assignment, or with --all the four side by side with how many owned
 * partitions each moves and how balanced it is. Bad input is one line naming the file, the JSON path and
 * what was expected (exit 2).
 */

import { readFileSync } from "node:fs";
import { z } from "zod";
import type { TopicPartitionRef } from "../protocol/kafka.ts";
import { ASSIGNOR_NAMES, assignorFor } from "../clients/consumer/assignors/index.ts";
import type { ConsumerPartitionAssignor, Subscription } from "../clients/consumer/assignors/partition-assignor.ts";
import { serializeTopicPartitionAssignment } from "../clients/consumer/assignors/sticky.ts";
import { compareTopicPartitions } from "../clients/consumer/assignors/java-order.ts";
import { jsonPath } from "../scenario/load.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { readInput } from "./files.ts";
import { chalk } from "./style.ts";

export interface AssignCommandOptions {
  assignor?: string;
  all?: boolean;
  json?: boolean;
}

const PARTITION_TEXT = /^(.+)-(\d+)$/;
const TopicName = z.string().min(1, { error: "expected a topic name (a non-empty string)" });

const Member = z
  .object({
    id: z.string().min(1, { error: "expected a member id (a non-empty string)" }),
    topics: z.array(TopicName),
    owned: z.array(z.string().regex(PARTITION_TEXT, { error: 'expected a partition like "t1-0" (topic, dash, partition number)' })).optional(),
    generation: z.number().int().min(-1).nullable().optional(),
    instanceId: z.string().min(1).nullable().optional(),
  })
  .strict();

const GroupInput = z
  .object({
    topics: z.record(TopicName, z.number().int().min(0).max(100_000)),
    members: z.array(Member).min(1, { error: "expected at least one member" }),
  })
  .strict();

type GroupInput = z.infer<typeof GroupInput>;
type Member = z.infer<typeof Member>;

/** One assignor's result, with how it treats the members' previous ownership. */
export interface AssignResult {
  readonly assignor: string;
  readonly assignment: Map<string, TopicPartitionRef[]>;
  /** Owned partitions taken from their owner (revoked). */
  readonly moved: number;
  /** Subscribed partitions nobody got this round (the cooperative assignor leaves moving ones for a follow-up). */
  readonly unassigned: number;
  /** Largest minus smallest number of partitions per member. */
  readonly balance: number;
}

export function assignCommand(file: string | undefined, options: AssignCommandOptions): number {
  if (options.all && options.assignor !== undefined) throw new UsageError("--all runs every assignor; leave out --assignor");
  const names = options.all ? [...ASSIGNOR_NAMES] : [options.assignor ?? "range"];
  for (const name of names) {
    if (assignorFor(name) === null) throw new UsageError(`--assignor: unknown assignor "${name}"; expected one of ${ASSIGNOR_NAMES.join(", ")} (or Kafka's class name)`);
  }
  const source = file === undefined || file === "-" ? "<stdin>" : file;
  const input = parseGroupInput(source === "<stdin>" ? readStdin() : readInput(source), source);
  const results = names.map((name) => runAssignor(assignorFor(name) as ConsumerPartitionAssignor, input));

  if (options.json) {
    const json = options.all
      ? { assignors: Object.fromEntries(results.map((result) => [result.assignor, { assignment: assignmentJson(result.assignment), moved: result.moved, unassigned: result.unassigned, balance: result.balance }])) }
      : { assignment: assignmentJson(results[0].assignment) };
    process.stdout.write(JSON.stringify(json) + "\n");
    return EXIT_OK;
  }
  process.stdout.write((options.all ? formatAll(input, results) : formatOne(input, results[0])).join("\n") + "\n");
  return EXIT_OK;
}

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    throw new UsageError("<stdin>: cannot read standard input");
  }
}

export function parseGroupInput(text: string, file: string): GroupInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^.*?:\s*/, "") : "";
    throw new UsageError(`${file}: $: expected valid JSON (${detail})`);
  }
  const result = GroupInput.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.code === "unrecognized_keys" && issue.keys.length > 0 ? [...issue.path, issue.keys[0]] : issue.path;
    throw new UsageError(`${file}: ${jsonPath(path)}: ${describeIssue(issue)}`);
  }
  const seen = new Map<string, number>();
  result.data.members.forEach((member, index) => {
    const first = seen.get(member.id);
    if (first !== undefined) throw new UsageError(`${file}: $.members[${index}].id: expected a unique member id ("${member.id}" is also $.members[${first}].id)`);
    seen.set(member.id, index);
  });
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return "unknown key (expected topics, members; a member has id, topics, owned, generation, instanceId)";
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) return `expected ${issue.expected}, found nothing (required)`;
  return issue.message.replace(/^Invalid (input|option): /, "").replace(/received/g, "found");
}

function parsePartition(text: string): TopicPartitionRef {
  const match = PARTITION_TEXT.exec(text) as RegExpExecArray;
  return { topic: match[1], partition: Number(match[2]) };
}

/** The member's Subscription as this assignor's consumer would send it (StickyAssignor: in its user data). */
function subscriptionOf(assignor: ConsumerPartitionAssignor, member: Member): Subscription {
  const owned = (member.owned ?? []).map(parsePartition);
  const generation = member.generation ?? null;
  let userData: unknown = null;
  if (assignor.name === "sticky" && (member.owned !== undefined || generation !== null)) userData = serializeTopicPartitionAssignment(owned, generation);
  if (assignor.name === "cooperative-sticky" && generation !== null) userData = { generation };
  return { topics: member.topics, userData, ownedPartitions: owned, generationId: generation ?? -1, groupInstanceId: member.instanceId ?? null };
}

export function runAssignor(assignor: ConsumerPartitionAssignor, input: GroupInput): AssignResult {
  const subscriptions = new Map(input.members.map((member) => [member.id, subscriptionOf(assignor, member)]));
  // AbstractPartitionAssignor.assign: the partition counts of the subscribed topics that exist.
  const partitionsPerTopic = new Map<string, number>();
  for (const member of input.members) {
    for (const topic of member.topics) {
      const count = input.topics[topic];
      if (count !== undefined && count > 0) partitionsPerTopic.set(topic, count);
    }
  }
  const raw = assignor.assign(partitionsPerTopic, subscriptions);
  const assignment = new Map(input.members.map((member) => [member.id, [...(raw.get(member.id) ?? [])].sort(compareTopicPartitions)]));
  const key = (tp: TopicPartitionRef): string => `${tp.topic}-${tp.partition}`;
  let moved = 0;
  for (const member of input.members) {
    const now = new Set((assignment.get(member.id) ?? []).map(key));
    moved += (member.owned ?? []).filter((text) => {
      const tp = parsePartition(text);
      return partitionsPerTopic.has(tp.topic) && tp.partition < (partitionsPerTopic.get(tp.topic) ?? 0) && !now.has(text);
    }).length;
  }
  const total = [...partitionsPerTopic.values()].reduce((sum, count) => sum + count, 0);
  const assignedCount = [...assignment.values()].reduce((sum, partitions) => sum + partitions.length, 0);
  const sizes = [...assignment.values()].map((partitions) => partitions.length);
  return { assignor: assignor.name, assignment, moved, unassigned: total - assignedCount, balance: Math.max(...sizes) - Math.min(...sizes) };
}

function assignmentJson(assignment: ReadonlyMap<string, readonly TopicPartitionRef[]>): Record<string, string[]> {
  return Object.fromEntries([...assignment].map(([member, partitions]) => [member, partitions.map((tp) => `${tp.topic}-${tp.partition}`)]));
}

function partitionList(partitions: readonly string[]): string {
  return partitions.length === 0 ? "-" : partitions.join(" ");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]): string => "  " + cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]))).join("  ");
  return [chalk.bold(line(header)), ...rows.map(line)];
}

function memberLabel(member: Member): string {
  return member.instanceId ? `${member.id} (${member.instanceId})` : member.id;
}

function summary(result: AssignResult): string {
  const unassigned = result.unassigned > 0 ? `, ${result.unassigned} left for a follow-up rebalance` : "";
  return `moved ${result.moved} owned partition(s)${unassigned}; balance (max - min) ${result.balance}`;
}

function formatOne(input: GroupInput, result: AssignResult): string[] {
  const rows = input.members.map((member) => [
    memberLabel(member),
    member.topics.join(","),
    partitionList([...(member.owned ?? [])].sort()),
    partitionList((result.assignment.get(member.id) ?? []).map((tp) => `${tp.topic}-${tp.partition}`)),
  ]);
  return [chalk.cyan(`${result.assignor} assignment`), ...table(["member", "topics", "owned", "assigned"], rows), "", summary(result)];
}

function formatAll(input: GroupInput, results: readonly AssignResult[]): string[] {
  const rows = input.members.map((member) => [
    memberLabel(member),
    partitionList([...(member.owned ?? [])].sort()),
    ...results.map((result) => partitionList((result.assignment.get(member.id) ?? []).map((tp) => `${tp.topic}-${tp.partition}`))),
  ]);
  const width = Math.max(...results.map((result) => result.assignor.length));
  return [
    ...table(["member", "owned", ...results.map((result) => result.assignor)], rows),
    "",
    ...results.map((result) => `  ${chalk.cyan(result.assignor.padEnd(width))}  ${summary(result)}`),
  ];
}
