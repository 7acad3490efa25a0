/** Terminal colours: chalk, switched off by NO_COLOR, --no-color, or output that is not a terminal. */
import chalk from "chalk";

export function configureColour(enabled: boolean): void {
  const noColorEnv = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
  if (!enabled || noColorEnv) chalk.level = 0;
}

export { chalk };
