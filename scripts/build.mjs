// Bundles the CLI into dist/cli.js with esbuild, so the simulator's hot path runs as plain JavaScript
// (no per-call transpiler) and `npx kafkasim` works right after `npm ci` (this runs as `prepare`).
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
});
