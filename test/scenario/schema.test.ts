import { expect } from "chai";
import { readFileSync } from "node:fs";
import { scenarioJsonSchemaText } from "../../src/scenario/schema.ts";
import { configRangesMarkdown } from "../../src/scenario/config-def.ts";

const ROOT = new URL("../..", import.meta.url);

describe("published scenario schema and the scenario library", () => {
  it("docs/scenario.schema.json is up to date (regenerate with `npm run schema`)", () => {
    const published = readFileSync(new URL("docs/scenario.schema.json", ROOT), "utf8");
    expect(published).to.equal(scenarioJsonSchemaText());
  });

  it("docs/config-ranges.md is up to date (regenerate with `npm run schema`)", () => {
    expect(readFileSync(new URL("docs/config-ranges.md", ROOT), "utf8")).to.equal(configRangesMarkdown());
  });

  // Every scenario file's expectation is checked by golden.test.ts, in the same run as its pinned trace.
});
