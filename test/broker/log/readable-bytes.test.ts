import { expect } from "chai";
import fc from "fast-check";
import type { LogConfig } from "../../../src/broker/log/config.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { batchOf, makeBroker } from "./helpers.ts";

/**
 * Log.readableBytes (a parked fetch's byte count) against Log.read: for any log (several segments, a moved log
 * start, flipped chunks) and any read, the read's sizeBytes, or null exactly where the read is an error.
 */

const CONFIG: Partial<LogConfig> = { "segment.bytes": 300, "index.interval.bytes": 90 };

describe("Log.readableBytes", () => {
  it("is read(...).sizeBytes, or null where read answers an error", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 25 }),
        fc.nat(3),
        fc.nat(100),
        fc.array(fc.record({ at: fc.nat(110), bound: fc.nat(100), maxBytes: fc.nat(400), minOneBatch: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        (counts, flips, logStartPercent, reads) => {
          const rig = makeBroker({ topicConfig: () => CONFIG });
          const log = rig.manager().getOrCreateLog("t", 0) as Log;
          counts.forEach((count, i) => {
            const appended = log.appendAsLeader(batchOf(count, `v${i}`), 0);
            if (appended.error !== null) throw new Error(appended.error);
          });
          log.updateHighWatermark(log.logEndOffset);
          log.maybeIncrementLogStartOffset(Math.floor((logStartPercent / 100) * log.logEndOffset));
          for (let i = 0; i < flips; i++) rig.disk.corrupt(rig.world.rng.fork(`flip${i}`), log.segments[i % log.segments.length].fileName);
          for (const r of reads) {
            const fetchOffset = Math.floor((r.at / 100) * (log.logEndOffset + 2)) - 1;
            const maxOffset = Math.floor((r.bound / 100) * log.logEndOffset);
            const read = log.read(fetchOffset, r.maxBytes, maxOffset, r.minOneBatch);
            expect(log.readableBytes(fetchOffset, r.maxBytes, maxOffset, r.minOneBatch)).to.equal(read.error === null ? read.sizeBytes : null);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
