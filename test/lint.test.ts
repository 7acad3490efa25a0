import { expect } from "chai";
import { ESLint } from "eslint";

const ROOT = new URL("..", import.meta.url).pathname;

async function lintMessages(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((message) => message.message);
}

describe("lint: no ambient time or randomness under src/", function () {
  this.timeout(60_000);

  const banned: [string, RegExp][] = [
    ["export const t = Date.now();", /Date is banned/],
    ["export const d = new Date();", /banned/],
    ["export const r = Math.random();", /Math\.random is banned/],
    ["setTimeout(() => {}, 1);", /setTimeout is banned/],
    ["export const p = performance.now();", /performance is banned/],
    ["export const u = crypto.randomUUID();", /crypto is banned/],
    ['import { randomBytes } from "node:crypto";\nexport const b = randomBytes(4);', /crypto is banned/],
    ['import { readFileSync } from "node:fs";\nexport const f = readFileSync;', /fs is for src\/cli only/],
    ["export async function f(): Promise<void> { await Promise.resolve(); }", /no async\/await in model code/],
  ];

  for (const [code, message] of banned) {
    it(`rejects \`${code.split("\n").at(-1)}\` in model code`, async () => {
      const messages = await lintMessages(code, "src/sim/example.ts");
      expect(messages.some((m) => message.test(m)), messages.join("; ")).to.equal(true);
    });
  }

  it("allows the wall clock in the CLI", async () => {
    const messages = await lintMessages("export const t = Date.now();\n", "src/cli/example.ts");
    expect(messages).to.deep.equal([]);
  });

  it("keeps the viewer's state module pure: no DOM, no ambient time, nothing of the model but the trace types", async () => {
    const code = 'import { runScenario } from "../../../src/scenario/run.ts";\nexport const x = [document.body, Math.random(), runScenario];\n';
    const messages = await lintMessages(code, "web/src/state/example.ts");
    expect(messages.some((m) => /reads only the trace/.test(m)), messages.join("; ")).to.equal(true);
    expect(messages.some((m) => /document is a DOM API/.test(m)), messages.join("; ")).to.equal(true);
    expect(messages.some((m) => /Math\.random is banned/.test(m)), messages.join("; ")).to.equal(true);
    const allowed = await lintMessages('import type { TraceEvent } from "../../../src/sim/trace.ts";\nexport type E = TraceEvent;\n', "web/src/state/example.ts");
    expect(allowed).to.deep.equal([]);
  });

  it("passes on the whole tree", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const results = await eslint.lintFiles(["src", "test", "web/src"]);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(problems).to.deep.equal([]);
  });
});
