/**
 * `kafkasim timeline TRACE [--from T] [--to T] [--nodes a,b] [--format text|mermaid] [--max N]
 * [--messages]`: reads a trace file and prints its key events as a coloured lane-per-node timeline, or a
 * Mermaid sequence diagram of the window. A bad trace line is one error naming the file and line (exit 2).
 */

import { parseDuration } from "../sim/time.ts";
import { TraceFormatError } from "../sim/trace.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { parseCount } from "./explore.ts";
import { readInput } from "./files.ts";
import { chalk } from "./style.ts";
import { buildTimeline, DEFAULT_MAX_ROWS, TimelineOptionError, type Timeline } from "./timeline.ts";
import { formatTimelineMermaid } from "./timeline-mermaid.ts";
import { formatTimelineText, type Paint } from "./timeline-text.ts";

export interface TimelineCommandOptions {
  from?: string;
  to?: string;
  nodes?: string;
  format?: string;
  max?: string;
  /** true: one row per message; false: none; undefined: text summarises, mermaid draws them. */
  messages?: boolean;
}

function parseTime(option: string, text: string): number {
  const parsed = parseDuration(/^\d+(\.\d+)?$/.test(text) ? Number(text) : text);
  if (parsed === null) throw new UsageError(`${option}: expected a duration like "10s" or "250ms", found "${text}"`);
  return parsed;
}

export function timelineCommand(file: string, options: TimelineCommandOptions): number {
  const format = options.format ?? "text";
  if (format !== "text" && format !== "mermaid") throw new UsageError(`--format: expected text or mermaid, found "${format}"`);
  const fromUs = options.from !== undefined ? parseTime("--from", options.from) : 0;
  const toUs = options.to !== undefined ? parseTime("--to", options.to) : Infinity;
  if (toUs < fromUs) throw new UsageError(`--to (${options.to}) is earlier than --from (${options.from})`);
  const max = options.max !== undefined ? parseCount("--max", options.max, 1) : DEFAULT_MAX_ROWS;
  const nodes = options.nodes !== undefined ? options.nodes.split(",").map((node) => node.trim()).filter((node) => node !== "") : null;
  if (nodes !== null && nodes.length === 0) throw new UsageError(`--nodes: expected node names separated by commas, found "${options.nodes}"`);
  // Key events and faults by default in both formats (a diagram with every message is unreadable); --messages adds them.
  const messages = options.messages ?? false;

  const text = readInput(file);
  let timeline: Timeline;
  try {
    timeline = buildTimeline(text, { fromUs, toUs, nodes, messages, max });
  } catch (error) {
    if (error instanceof TraceFormatError) throw new UsageError(`${file}: ${error.message}`);
    if (error instanceof TimelineOptionError) throw new UsageError(error.message);
    throw error;
  }
  const lines = format === "mermaid" ? formatTimelineMermaid(timeline) : formatTimelineText(timeline, chalkPaint());
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT_OK;
}

function chalkPaint(): Paint {
  return {
    fault: chalk.yellow,
    down: chalk.red,
    up: chalk.green,
    pause: chalk.yellow,
    election: chalk.magenta,
    isr: chalk.blue,
    truncation: chalk.red,
    violation: chalk.bold.red,
    client: chalk.yellow,
    admin: chalk.cyan,
    zookeeper: chalk.cyan,
    group: chalk.greenBright,
    transaction: chalk.blueBright,
    dim: chalk.dim,
    bold: chalk.bold,
    message: chalk.gray,
  };
}
