#!/usr/bin/env node
// Launcher: the CLI is bundled to dist/cli.js by `npm run build` (run automatically by `npm ci` / `npm install`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write("kafkasim: dist/cli.js is missing; run `npm run build` (or `npm ci`) first\n");
  process.exit(2);
}
await import(cli.href);
