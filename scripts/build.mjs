// Bundles the CLI into dist/cli.js with esbuild, so the simulator's hot path runs as plain JavaScript
// (no per-call transpiler) and `npx kafkasim` works right after `npm ci` (this runs as `prepare`).
// `kafkasim explore`'s worker threads load dist/explore-worker.js, a second bundle beside it.
// The web viewer (web/src/ui/app.ts, with d3) is bundled into web/dist/viewer.js, which `kafkasim view`
// serves with web/index.html and web/style.css.
// `node scripts/build.mjs OUTDIR` builds the CLI elsewhere (the explore test bundles into a temporary directory).
import { build } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const outdir = process.argv[2] ?? "dist";

await build({
  entryPoints: { cli: "src/cli/main.ts", "explore-worker": "src/cli/explore-worker.ts" },
  outdir,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
});

if (process.argv[2] === undefined) {
  // The simulator for the browser: the model under src/ as a classic Web Worker script (web/src/sim/worker.ts).
  await build({
    entryPoints: { "sim-worker": "web/src/sim/worker.ts" },
    outdir: "web/dist",
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
  });
  // The scenario library for the browser's picker: each built-in scenario file's name and text.
  const files = readdirSync("scenarios").filter((name) => /\.json$/.test(name)).sort();
  mkdirSync("web/dist", { recursive: true });
  writeFileSync("web/dist/scenarios.json", JSON.stringify(files.map((file) => ({ file, text: readFileSync(join("scenarios", file), "utf8") }))));
  await build({
    entryPoints: { viewer: "web/src/ui/app.ts" },
    outdir: "web/dist",
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
  });
}
