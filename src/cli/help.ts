/**
 * The examples and exit codes `--help` shows after commander's option list: for the program and for each
 * command, a few command lines a new user can paste (built-in scenarios by name, so they work from anywhere).
 */

export const EXIT_CODES = `
Exit codes:
  0  the run met its scenario's expectation (for explore: every seed did)
  1  it did not (explore: a seed failed; shrink: the violation did not reproduce)
  2  bad input: a command-line argument or a scenario, trace or group file (one line per problem)
  3  no verdict about Kafka: a model error, or the run stopped at its event, wall-time or memory bound`;

const EXAMPLES: Readonly<Record<string, string[]>> = {
  "": [
    "kafkasim list                                   # the built-in scenarios, grouped",
    "kafkasim run kip-101-data-loss                  # replay KIP-101's data loss under Kafka 0.10",
    "kafkasim run kip-101-fixed --trace out/run.jsonl  # the fixed release; write the trace",
    "kafkasim view out/run.jsonl                     # open it in the web viewer",
    "kafkasim explore safe-chaos --seeds 100         # sweep seeds of a random fault schedule",
    "kafkasim help run                               # a command's options and examples",
  ],
  run: [
    "kafkasim run kip-101-data-loss                  # a built-in scenario by name",
    "kafkasim run my-scenario.json --seed 7          # a file, another seed",
    "kafkasim run kip-101-data-loss --trace out/run.jsonl --history out/history.jsonl",
    "kafkasim run kip-101-data-loss --version-preset 0.11   # the same faults under another Kafka release",
    "kafkasim run kip-101-data-loss --json           # one JSON object (every violation with its evidence)",
  ],
  explore: [
    "kafkasim explore safe-chaos --seeds 100         # seeds 1..100 on every core; failing seeds with replay commands",
    "kafkasim explore safe-chaos --seeds 1000 --shard 1/4 --json > out/shard1.jsonl",
    "kafkasim explore merge out/shard*.jsonl         # one report from the shards",
  ],
  shrink: ["kafkasim shrink kip-101-data-loss --seed 1 -o out/shrunk.json  # the fewest faults that still show its expected violation", "kafkasim run out/shrunk.json                    # replay the shrunk schedule"],
  timeline: [
    "kafkasim timeline out/run.jsonl --from 4s --to 15s      # key events, a lane per node",
    "kafkasim timeline out/run.jsonl --format mermaid > out/run.mmd  # key events and faults as a sequence diagram",
    "kafkasim timeline out/run.jsonl --format mermaid --messages     # with every message as an arrow",
  ],
  view: ["kafkasim view out/run.jsonl                     # serve the viewer with this trace and open it", "kafkasim view --no-open --port 8080"],
  list: ["kafkasim list", "kafkasim list --json"],
  compare: ["kafkasim compare kip-101-data-loss --seeds 5  # violations per Kafka era preset"],
  assign: ['echo \'{"topics": {"t": 6}, "members": [{"id": "a", "topics": ["t"]}, {"id": "b", "topics": ["t"]}]}\' | kafkasim assign --all'],
  bench: ["kafkasim bench                                  # kernel, standard, chaos and scale", "kafkasim bench --only chaos --seeds 20 --json"],
};

/** The text shown after a command's (or, for "", the program's) options. */
export function helpAfter(command: string): string {
  const examples = EXAMPLES[command] ?? [];
  const lines = examples.length > 0 ? `\nExamples:\n${examples.map((line) => `  ${line}`).join("\n")}\n` : "";
  return `${lines}${EXIT_CODES}\n`;
}
