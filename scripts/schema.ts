// Writes docs/scenario.schema.json from the zod schema (npm run schema); a test fails when it is stale.
import { writeFileSync } from "node:fs";
import { scenarioJsonSchemaText } from "../src/scenario/schema.ts";

writeFileSync(new URL("../docs/scenario.schema.json", import.meta.url), scenarioJsonSchemaText());
