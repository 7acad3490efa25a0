// Lint: typescript-eslint's recommended rules, plus the determinism rule of DESIGN.md — no ambient time or
// randomness under src/ (Date, Math.random, timers, performance, crypto, process.hrtime). Only the CLI may
// read the wall clock, for progress display and benchmarks.
import tseslint from "typescript-eslint";

const ambient = "is banned under src/: the simulator's time and randomness must come from the kernel and seeded streams";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "web/dist/**"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**"],
    rules: {
      "no-restricted-globals": [
        "error",
        { name: "Date", message: `Date ${ambient}` },
        { name: "setTimeout", message: `setTimeout ${ambient}` },
        { name: "setInterval", message: `setInterval ${ambient}` },
        { name: "setImmediate", message: `setImmediate ${ambient}` },
        { name: "queueMicrotask", message: `queueMicrotask ${ambient}` },
        { name: "performance", message: `performance ${ambient}` },
        { name: "crypto", message: `crypto ${ambient}` },
        { name: "process", message: "process is banned under src/ outside the CLI (the simulator also runs in a browser)" },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: `Math.random ${ambient}` },
        { object: "globalThis", property: "Date", message: `Date ${ambient}` },
        { object: "globalThis", property: "setTimeout", message: `setTimeout ${ambient}` },
        { object: "globalThis", property: "performance", message: `performance ${ambient}` },
        { object: "globalThis", property: "crypto", message: `crypto ${ambient}` },
      ],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "crypto", message: `crypto ${ambient}` },
            { name: "node:crypto", message: `crypto ${ambient}` },
            { name: "timers", message: `timers ${ambient}` },
            { name: "node:timers", message: `timers ${ambient}` },
            { name: "perf_hooks", message: `perf_hooks ${ambient}` },
            { name: "node:perf_hooks", message: `perf_hooks ${ambient}` },
            { name: "fs", message: "fs is for src/cli only: the simulator must run in a browser" },
            { name: "node:fs", message: "fs is for src/cli only: the simulator must run in a browser" },
          ],
        },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date']", message: `new Date() ${ambient}` },
        { selector: "AwaitExpression", message: "no async/await in model code: a crash must cancel everything pending" },
      ],
    },
  },
  {
    // The viewer's state reconstruction: pure, deterministic, no DOM (it runs in Node tests and the browser), and
    // it reads only the trace (its types from src/sim/trace.ts and trace-snapshot.ts), never the model.
    files: ["web/src/state/**/*.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        ...["window", "document", "navigator", "localStorage", "sessionStorage", "requestAnimationFrame", "fetch"].map((name) => ({
          name,
          message: `${name} is a DOM API: web/src/state is pure (the UI in web/src/ui draws)`,
        })),
        { name: "Date", message: `Date ${ambient}` },
        { name: "performance", message: `performance ${ambient}` },
        { name: "setTimeout", message: `setTimeout ${ambient}` },
        { name: "process", message: "process is Node's: web/src/state also runs in the browser" },
      ],
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: `Math.random ${ambient}` }],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(\\.\\./)+src/(?!sim/trace(-snapshot)?\\.ts$)",
              message: "web/src/state reads only the trace: import nothing from src/ but src/sim/trace.ts and trace-snapshot.ts",
            },
            { regex: "^(node:)?(fs|path|crypto|child_process)$", message: "web/src/state also runs in the browser" },
          ],
        },
      ],
    },
  },
);
