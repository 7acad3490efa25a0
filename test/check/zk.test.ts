import { expect } from "chai";
import { EphemeralLeakChecker } from "../../src/check/zk.ts";
import { DataTree } from "../../src/zk/datatree.ts";
import type { ZkTxnEntry } from "../../src/zk/txn.ts";

function entry(zxid: number, sessionId: number, txn: ZkTxnEntry["txn"]): ZkTxnEntry {
  return { header: { zxid, time: 0, sessionId, cxid: 1 }, txn };
}

describe("zk-ephemeral-leak checker", () => {
  function treeWithEphemeral(): DataTree {
    const tree = new DataTree();
    tree.apply(entry(1, 7, { type: "createSession", timeoutMs: 6000 }));
    tree.apply(entry(2, 7, { type: "create", path: "/b", data: "", ephemeralOwner: 0, parentCVersion: 1 }));
    tree.apply(entry(3, 7, { type: "create", path: "/b/1", data: "", ephemeralOwner: 7, parentCVersion: 1 }));
    return tree;
  }

  it("finds nothing while the owning session lives, and nothing after a proper closeSession", () => {
    const tree = treeWithEphemeral();
    const checker = new EphemeralLeakChecker();
    expect(checker.check([{ name: "zk-1", tree }], 0)).to.deep.equal([]);
    tree.apply(entry(4, 7, { type: "closeSession" }));
    expect(tree.exists("/b/1").stat).to.equal(null);
    expect(checker.check([{ name: "zk-1", tree }], 0)).to.deep.equal([]);
  });

  it("reports an ephemeral whose session is gone, once, with its evidence", () => {
    const tree = treeWithEphemeral();
    // A broken expiry: the session leaves the table but its ephemeral stays.
    (tree.sessions as Map<number, number>).delete(7);
    const checker = new EphemeralLeakChecker();
    const found = checker.check([{ name: "zk-2", tree }], 5_000_000);
    expect(found).to.have.length(1);
    expect(found[0]).to.deep.include({ name: "zk-ephemeral-leak", time: 5_000_000, nodes: ["zk-2"] });
    expect(found[0].evidence).to.include({ path: "/b/1", ephemeralOwner: "0x7", server: "zk-2" });
    expect(checker.check([{ name: "zk-2", tree }], 6_000_000)).to.deep.equal([]);
  });
});
