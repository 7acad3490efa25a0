// Writes docs/scenario.schema.json from the zod schema, docs/config-ranges.md from config-def.ts and docs/tours/*.md
// from the scenarios' tours (npm run schema); a test fails when one is stale.
import { writeFileSync } from "node:fs";
import { scenarioJsonSchemaText } from "../src/scenario/schema.ts";
import { configRangesMarkdown } from "../src/scenario/config-def.ts";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { tourPage } from "../web/src/ui/tour-docs.ts";

writeFileSync(new URL("../docs/scenario.schema.json", import.meta.url), scenarioJsonSchemaText());
writeFileSync(new URL("../docs/config-ranges.md", import.meta.url), configRangesMarkdown());

// A docs page per guided tour (docs/tours/NAME.md).
mkdirSync(new URL("../docs/tours/", import.meta.url), { recursive: true });
for (const file of readdirSync(new URL("../scenarios/", import.meta.url)).filter((name) => name.endsWith(".json"))) {
  const page = tourPage(JSON.parse(readFileSync(new URL(`../scenarios/${file}`, import.meta.url), "utf8")));
  if (page !== null) writeFileSync(new URL(`../docs/tours/${file.replace(/\.json$/, ".md")}`, import.meta.url), page);
}
