/**
 * A scenario's guided tour (issue 19): its notes as stops a student steps through in the viewer. A stop is text,
 * and optionally the trace event it talks about — the `nth` event of `kind` (on `node`, with the fields of
 * `where`) — and the partition the inspector opens on. The runner ignores tours; the viewer's tour panel jumps to
 * each stop's event, rings it on the diagram and focuses the inspector (web/src/ui/tour-model.ts finds the events).
 */

import { z } from "zod";

const FieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const TourEvent = z.strictObject({
  kind: z.string().regex(/^[a-z][a-z0-9-]*$/, { error: 'expected a trace event kind (docs/trace.md), like "replica-truncate"' }),
  node: z.string().min(1).optional(),
  where: z.record(z.string(), FieldValue, { error: "expected an object of event fields and the values they must have" }).optional(),
  /** Which matching event, counting from 1 (default the first). */
  nth: z.number().int().min(1).max(1_000_000).default(1),
});
export type TourEvent = z.infer<typeof TourEvent>;

export const TourStop = z.strictObject({
  /** What to look at, in a few sentences. */
  text: z.string().min(1),
  event: TourEvent.optional(),
  /** The partition the inspector shows ("t-0"). */
  partition: z.string().min(1).optional(),
});
export type TourStop = z.infer<typeof TourStop>;

export const Tour = z.array(TourStop).min(1, { error: "expected at least one stop" });
