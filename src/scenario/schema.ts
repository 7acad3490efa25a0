/** The published JSON Schema of scenario files (docs/scenario.schema.json), generated from the zod schema. */

import { z } from "zod";
import { Scenario } from "./spec.ts";

export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Scenario, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://github.com/kafkasim/kafkasim/docs/scenario.schema.json",
    title: "kafkasim scenario",
    description: "A kafkasim scenario file: cluster, network, faults and expectations (see docs/scenarios.md).",
  };
}

export function scenarioJsonSchemaText(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + "\n";
}
