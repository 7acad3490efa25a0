// Writes docs/scenario.schema.json from the zod schema and docs/config-ranges.md from config-def.ts (npm run schema); a test fails when it is stale.
import { writeFileSync } from "node:fs";
import { scenarioJsonSchemaText } from "../src/scenario/schema.ts";
import { configRangesMarkdown } from "../src/scenario/config-def.ts";

writeFileSync(new URL("../docs/scenario.schema.json", import.meta.url), scenarioJsonSchemaText());
writeFileSync(new URL("../docs/config-ranges.md", import.meta.url), configRangesMarkdown());
