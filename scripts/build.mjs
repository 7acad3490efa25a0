// Bundles the CLI into dist/cli.js with esbuild, so the simulator's hot path runs as plain JavaScript
// (no per-call transpiler) and `npx kafkasim` works right after `npm ci` (this runs as `prepare`).
// `kafkasim explore`'s worker threads load dist/explore-worker.js, a second bundle beside it.
// `node scripts/build.mjs OUTDIR` builds elsewhere (the explore test bundles into a temporary directory).
import { build } from "esbuild";

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
