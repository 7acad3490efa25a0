/**
 * The kafkasim command line (commander). Bad arguments and bad files print one line and exit 2; a run
 * exits 0 when it meets its expectation and 1 when not. This is the only layer that touches the file
 * system, the process and the wall clock.
 */

import { Command, CommanderError, Option } from "commander";
import { performance } from "node:perf_hooks";
import { ScenarioError } from "../scenario/load.ts";
import { VERSION } from "../version.ts";
import { KAFKA_VERSIONS } from "../broker/config.ts";
import { assignCommand } from "./assign-command.ts";
import { benchCommand } from "./bench-command.ts";
import { EXIT_USAGE, UsageError } from "./errors.ts";
import { exploreCommand } from "./explore-command.ts";
import { exploreMergeCommand } from "./explore-merge.ts";
import { compareCommand } from "./compare-command.ts";
import { listCommand, scenarioArgument } from "./list-command.ts";
import { runCommand } from "./run-command.ts";
import { shrinkCommand } from "./shrink-command.ts";
import { configureColour } from "./style.ts";
import { timelineCommand } from "./timeline-command.ts";
import { viewCommand } from "./view-command.ts";
import { helpAfter } from "./help.ts";

const wallClock = (): number => performance.now(); // wall-clock-ok: CLI timing only

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("kafkasim")
    .description("Deterministic simulator of an Apache Kafka cluster in ZooKeeper mode")
    .version(VERSION, "-V, --version")
    .option("--no-color", "disable coloured output (NO_COLOR is respected too)")
    .showHelpAfterError(false)
    .addHelpText("after", helpAfter(""))
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`kafkasim: ${text.replace(/^error: /, "").trimEnd()}\n`) })
    .hook("preAction", (command) => configureColour(command.optsWithGlobals().color !== false && process.stdout.isTTY === true));

  program
    .command("run")
    .description("run a scenario file (JSON or YAML) and judge it against its expectation")
    .argument("<file>", "scenario file, or the name of a built-in scenario (kafkasim list)")
    .option("--seed <n>", "override the scenario's seed")
    .option("--trace <out>", "write the JSON Lines trace to this file")
    .option("--history <out>", "write the client history (invoke/ok/fail/info operations) as JSON Lines")
    .option("--until <t>", "stop at this virtual time (e.g. 10s)")
    .option("--metrics-interval <ms>", "JMX metrics events in the trace every MS of virtual time (default 1000; 0 = off)")
    .option("--json", "print one JSON object instead of the summary")
    .option("--check-determinism", "run twice and compare the traces event by event")
    .option("--snapshot-interval <ms>", "record a snapshot event of the model's state every MS virtual milliseconds (for the viewer's tests)")
    .option("--max-wall <t>", "end the run with a wall-limit verdict after this much wall time (default 1h)")
    .option("--max-memory <mb>", "end the run with a memory-limit verdict above this much JavaScript heap (default 85% of V8's limit)")
    .option("--version-preset <version>", `run under this Kafka era preset instead of the file's cluster.version (${KAFKA_VERSIONS.join(", ")})`)
    .addHelpText("after", helpAfter("run"))
    .exitOverride()
    .action((file: string, options) => setExit(runCommand(scenarioArgument(file), options, wallClock)));

  program
    .command("bench")
    .description("measure the simulator's speed: the kernel, the standard, chaos and scale scenarios (or --soak)")
    .option("--kernel", "only the bare kernel's no-op event rate against a plain binary heap (as --only kernel)")
    .option("--only <parts>", "only these parts, comma-separated: kernel, standard, groups, transactions, chaos, scale")
    .option("--sim-seconds <n>", "simulated seconds of each scenario part (default: standard 600, chaos 60, scale 600, soak 3600)")
    .option("--seeds <n>", "chaos seeds to run (default 20)")
    .option("--jobs <n>", "chaos worker threads (default: the number of CPUs)")
    .option("--partitions <list>", "scale sizes, comma-separated partition counts (default 1250,2500,5000)")
    .option("--scale-wall-limit <s>", "stop a scale size after this many wall seconds and report that it hit the bound (default 300)")
    .option("--soak", "instead: one simulated hour of chaos with retention on, sampling heap use every simulated minute")
    .option("--json", "print JSON")
    .addOption(new Option("--events <n>", "kernel events per round").hideHelp())
    .addOption(new Option("--rounds <n>", "kernel measurement rounds").hideHelp())
    .addOption(new Option("--scale-child <n>", "internal: run one scale size and print JSON lines").hideHelp())
    .addHelpText("after", helpAfter("bench"))
    .exitOverride()
    // Validation throws synchronously (exit 2 through main's catch); the chaos part finishes asynchronously.
    .action((options) => benchCommand(options, wallClock).then((code) => void (process.exitCode = code)));

  const explore = program
    .command("explore")
    .description("run a scenario over many seeds on worker threads and list the seeds that fail its expectation")
    .argument("<file>", "scenario file (a file named merge: write ./merge)")
    // Not commander's requiredOption: that would be required of `explore merge` too (explore-command checks it).
    .option("--seeds <n>", "how many seeds to run (seed values S, S+1, …); required")
    .option("--jobs <n>", "worker threads (default: the number of CPUs)")
    .option("--shard <k/n>", "run only shard K of N (seed index i with i % N == K-1), to split seeds across machines")
    .option("--first-seed <s>", "the first seed value S (default: the scenario's seed when it is an integer, else 1)")
    .option("--json", "print one JSON summary per seed (JSON Lines), then a totals object")
    .option("--max-wall <t>", "end a seed's run with a wall-limit verdict after this much wall time (default 10m)")
    .option("--max-memory <mb>", "end a seed's run with a memory-limit verdict above this much heap per worker (default 85% of V8's limit)")
    // `explore merge …` is the subcommand whenever merge is the first word after explore (a scenario file
    // named merge is written ./merge); no implicit `explore help` subcommand takes a file named help.
    .helpCommand(false)
    .addHelpText("after", helpAfter("explore"))
    .exitOverride()
    // Validation throws synchronously (exit 2 through main's catch); the runs finish asynchronously.
    .action((file: string, options) => exploreCommand(scenarioArgument(file), options, wallClock).then((code) => void (process.exitCode = code)));

  explore
    .command("merge")
    .description("merge the --json reports of the shards of one explore sweep into one report")
    .argument("<files...>", "the shards' explore --json outputs, one per shard K/N")
    .option("--json", "print the merged report as explore --json does: the seed lines in seed order, then the totals")
    .addHelpText("after", helpAfter("merge"))
    .exitOverride()
    .action((files: string[], options: { json?: boolean }, command: Command) => {
      // Commander hands options written after `merge` to explore (the program does not use positional options,
      // so that --no-color works anywhere): --json is read from there, explore's run options are refused.
      const parent = command.parent!;
      const stray = parent.options.find((option) => option.long !== "--json" && parent.getOptionValue(option.attributeName()) !== undefined);
      if (stray !== undefined) throw new UsageError(`explore merge: ${stray.long} is an option of explore FILE, not of explore merge (merge takes --json only)`);
      setExit(exploreMergeCommand(files, { json: options.json === true || parent.getOptionValue("json") === true }));
    });

  program
    .command("compare")
    .description("run one scenario under several Kafka era presets over the same seeds: a table of violations per preset")
    .argument("<file>", "scenario file, or the name of a built-in scenario (kafkasim list)")
    .option("--presets <list>", `comma-separated presets (default: all: ${KAFKA_VERSIONS.join(", ")})`)
    .option("--seeds <n>", "seeds per preset (default 5)")
    .option("--first-seed <n>", "the first seed (default 1)")
    .option("--json", "print JSON")
    .addHelpText("after", helpAfter("compare"))
    .exitOverride()
    .action((file: string, options) => setExit(compareCommand(scenarioArgument(file), options)));

  program
    .command("list")
    .description("list the built-in scenarios with one-line descriptions")
    .option("--json", "print JSON")
    .addHelpText("after", helpAfter("list"))
    .exitOverride()
    .action((options) => setExit(listCommand(options)));

  program
    .command("timeline")
    .description("print a trace's key events as a lane-per-node terminal timeline, or a Mermaid sequence diagram")
    .argument("<trace>", "trace file (JSON Lines, from run --trace)")
    .option("--from <t>", "start of the window (e.g. 9s)")
    .option("--to <t>", "end of the window (e.g. 15s)")
    .option("--nodes <a,b>", "only these nodes' lanes, comma-separated")
    .option("--format <format>", "text or mermaid", "text")
    .option("--max <n>", "rows shown at most (default 200)")
    .option("--messages", "one row (text) or arrow (mermaid) per message")
    .option("--no-messages", "summarise messages as counts (text) or leave them out but for drops (mermaid); the default")
    .addHelpText("after", helpAfter("timeline"))
    .exitOverride()
    .action((file: string, options) => setExit(timelineCommand(file, options)));

  program
    .command("view")
    .description("serve the web timeline viewer on 127.0.0.1 (with a trace, opened at once) and print its URL")
    .argument("[trace]", "trace file (JSON Lines, from run --trace)")
    .option("--port <n>", "port to listen on (default: any free port)")
    .option("--no-open", "do not open a browser")
    .option("--source-maps", "also serve the viewer's source maps (web/dist/*.map) and point the bundle at them")
    .addHelpText("after", helpAfter("view"))
    .exitOverride()
    // Validation throws synchronously or rejects (exit 2); the server runs until Ctrl-C.
    .action((trace: string | undefined, options) =>
      viewCommand(trace, options).then(
        (code) => void (process.exitCode = code),
        (error: Error) => {
          process.stderr.write(`kafkasim: ${error.message}\n`);
          process.exitCode = EXIT_USAGE;
        },
      ),
    );

  program
    .command("assign")
    .description("run Kafka's consumer partition assignors (range, roundrobin, sticky, cooperative-sticky) on a group described in JSON")
    .argument("[file]", "group file (JSON: topics with partition counts, members with topics and owned partitions); stdin if absent or -")
    .option("--assignor <name>", "range, roundrobin, sticky or cooperative-sticky, or Kafka's class name (default range)")
    .option("--all", "run all four assignors side by side: assignments, partitions moved, balance")
    .option("--json", "print JSON: {\"assignment\": {member: [partitions]}} (with --all: {\"assignors\": {...}})")
    .addHelpText("after", helpAfter("assign"))
    .exitOverride()
    .action((file: string | undefined, options) => setExit(assignCommand(file, options)));

  program
    .command("shrink")
    .description("minimise a failing run's fault schedule and write a scenario file that replays its violation")
    .argument("<file>", "scenario file, or the name of a built-in scenario (kafkasim list)")
    .option("--seed <n>", "the seed of the failing run (default: the scenario's seed)")
    .requiredOption("-o, --output <out>", "write the shrunk scenario (JSON) to this file")
    .option("--violation <name>", "the violation to keep (default: the scenario's expected one, else the first the run shows)")
    .option("--max-runs <n>", "bound on the number of runs (default 200)")
    .option("--json", "print one JSON object instead of the summary")
    .addHelpText("after", helpAfter("shrink"))
    .exitOverride()
    .action((file: string, options) => setExit(shrinkCommand(scenarioArgument(file), options, wallClock)));

  return program;
}

function main(argv: string[]): number {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    program.parse(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
      return EXIT_USAGE; // commander already printed its one line
    }
    if (error instanceof UsageError || error instanceof ScenarioError) {
      // One line per problem (a scenario file's problems are all reported at once).
      process.stderr.write(error.message.split("\n").map((line) => `kafkasim: ${line}\n`).join(""));
      return EXIT_USAGE;
    }
    throw error;
  }
}

process.exitCode = main(process.argv);
