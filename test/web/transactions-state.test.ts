/**
 * A replica's transactional records by hand (web/src/state/replica-track.ts): data records are open until their
 * producer's next marker on the replica, then committed or aborted as of the playback position; a truncated
 * marker reopens them, and the marker appended after the truncation decides them; another producer's marker
 * does not.
 */

import { expect } from "chai";
import { ReplicaTrack } from "../../web/src/state/replica-track.ts";

const txnOf = (r: ReplicaTrack, index: number) => r.window(index, index, 0, 10).map((record) => record.control ?? record.txn ?? "-").join(" ");

describe("state timeline: transactional records of one replica", () => {
  it("open until the producer's marker, then its outcome; other producers and plain records untouched", () => {
    const r = new ReplicaTrack("broker-1", 1, "a-0");
    r.append(0, 0, "x", 0, 0, { producerId: 7, control: null });
    r.append(1, 1, "y", 0, 1, { producerId: 8, control: null });
    r.append(2, 2, "plain", 0, 2);
    r.append(3, 3, "m", 0, 3, { producerId: 7, control: "ABORT" });
    expect(txnOf(r, 2)).to.equal("open open -");
    expect(txnOf(r, 3)).to.equal("aborted open - ABORT");
    r.append(4, 4, "m", 0, 4, { producerId: 8, control: "COMMIT" });
    expect(txnOf(r, 4)).to.equal("aborted committed - ABORT COMMIT");
    expect(r.window(4, 4, 0, 1)[0].producerId).to.equal(7);
  });

  it("a truncated marker reopens its records; the next marker decides them", () => {
    const r = new ReplicaTrack("broker-2", 2, "a-0");
    r.append(0, 0, "x", 0, 0, { producerId: 7, control: null });
    r.append(1, 1, "m", 0, 1, { producerId: 7, control: "COMMIT" });
    expect(txnOf(r, 1)).to.equal("committed COMMIT");
    r.truncateTo(2, 1);
    expect(txnOf(r, 2)).to.equal("open");
    r.append(3, 1, "m", 1, 1, { producerId: 7, control: "ABORT" });
    expect(txnOf(r, 3)).to.equal("aborted ABORT");
    // Earlier positions keep what they showed.
    expect(txnOf(r, 1)).to.equal("committed COMMIT");
  });
});
