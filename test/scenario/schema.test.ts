import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { scenarioJsonSchemaText } from "../../src/scenario/schema.ts";
import { configRangesMarkdown } from "../../src/scenario/config-def.ts";
import { loadScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";

const ROOT = new URL("../..", import.meta.url);

describe("published scenario schema and the scenario library", () => {
  it("docs/scenario.schema.json is up to date (regenerate with `npm run schema`)", () => {
    const published = readFileSync(new URL("docs/scenario.schema.json", ROOT), "utf8");
    expect(published).to.equal(scenarioJsonSchemaText());
  });

  it("docs/config-ranges.md is up to date (regenerate with `npm run schema`)", () => {
    expect(readFileSync(new URL("docs/config-ranges.md", ROOT), "utf8")).to.equal(configRangesMarkdown());
  });

  for (const file of readdirSync(new URL("scenarios/", ROOT)).filter((name) => /\.(json|ya?ml)$/.test(name))) {
    it(`scenarios/${file} loads and meets its expectation`, () => {
      const scenario = loadScenario(readFileSync(new URL(`scenarios/${file}`, ROOT), "utf8"), `scenarios/${file}`);
      const result = runScenario(scenario);
      expect(result.expectationProblems).to.deep.equal([]);
      expect(result.expectationMet).to.equal(true);
    });
  }
});
