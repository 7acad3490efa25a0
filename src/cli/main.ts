/**
 * The kafkasim command line (commander). Bad arguments and bad files print one line and exit 2; a run
 * exits 0 when it meets its expectation and 1 when not. This is the only layer that touches the file
 * system, the process and the wall clock.
 */

import { Command, CommanderError, Option } from "commander";
import { performance } from "node:perf_hooks";
import { ScenarioError } from "../scenario/load.ts";
import { VERSION } from "../version.ts";
import { benchCommand } from "./bench-command.ts";
import { EXIT_USAGE, UsageError } from "./errors.ts";
import { runCommand } from "./run-command.ts";
import { configureColour } from "./style.ts";

const wallClock = (): number => performance.now(); // wall-clock-ok: CLI timing only

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("kafkasim")
    .description("Deterministic simulator of an Apache Kafka cluster in ZooKeeper mode")
    .version(VERSION, "-V, --version")
    .option("--no-color", "disable coloured output (NO_COLOR is respected too)")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`kafkasim: ${text.replace(/^error: /, "").trimEnd()}\n`) })
    .hook("preAction", (command) => configureColour(command.optsWithGlobals().color !== false && process.stdout.isTTY === true));

  program
    .command("run")
    .description("run a scenario file (JSON or YAML) and judge it against its expectation")
    .argument("<file>", "scenario file")
    .option("--seed <n>", "override the scenario's seed")
    .option("--trace <out>", "write the JSON Lines trace to this file")
    .option("--history <out>", "write the client history (invoke/ok/fail/info operations) as JSON Lines")
    .option("--until <t>", "stop at this virtual time (e.g. 10s)")
    .option("--json", "print one JSON object instead of the summary")
    .option("--check-determinism", "run twice and compare the traces event by event")
    .exitOverride()
    .action((file: string, options) => setExit(runCommand(file, options, wallClock)));

  program
    .command("bench")
    .description("measure the simulator's speed")
    .option("--kernel", "the bare kernel's no-op event rate against a plain binary heap")
    .option("--json", "print JSON")
    .addOption(new Option("--events <n>", "events per round").hideHelp())
    .addOption(new Option("--rounds <n>", "measurement rounds").hideHelp())
    .exitOverride()
    .action((options) => setExit(benchCommand(options, wallClock)));

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
      process.stderr.write(`kafkasim: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

process.exitCode = main(process.argv);
