import { expect } from "chai";
import fc from "fast-check";
import { makeZxid, type SessionId, type ZkReply, type ZkWriteOp } from "../../src/protocol/zk.ts";
import { DataTree, utf8Length, type ZkTxnRequest } from "../../src/zk/datatree.ts";
import { invalidPathReason, isValidPath, parentPath, sequenceSuffix } from "../../src/zk/paths.ts";
import type { ZkTxn, ZkTxnEntry, ZkTxnHeader } from "../../src/zk/txn.ts";

const S1: SessionId = 0x101;
const S2: SessionId = 0x202;

/** A tree with a zxid counter: each write gets the next zxid and time 1000 + counter. */
class Leader {
  tree = new DataTree();
  counter = 0;
  log: ZkTxnEntry[] = [];
  replies: ZkReply[] = [];

  header(sessionId: SessionId = S1): ZkTxnHeader {
    this.counter++;
    return { zxid: makeZxid(1, this.counter), time: 1000 + this.counter, sessionId, cxid: this.counter };
  }

  write(request: ZkTxnRequest, sessionId: SessionId = S1) {
    const header = this.header(sessionId);
    const out = this.tree.prepareAndApply(header, request);
    this.log.push({ header, txn: out.txn });
    this.replies.push(out.reply);
    return { ...out, zxid: header.zxid, time: header.time };
  }

  create(path: string, data = "", opts: { ephemeral?: boolean; sequential?: boolean; session?: SessionId } = {}) {
    return this.write(
      { op: "create", path, data, ephemeral: opts.ephemeral ?? false, sequential: opts.sequential ?? false },
      opts.session ?? S1,
    );
  }

  delete(path: string, version = -1) {
    return this.write({ op: "delete", path, version });
  }

  setData(path: string, data: string, version = -1) {
    return this.write({ op: "setData", path, data, version });
  }

  multi(ops: ZkWriteOp[], sessionId: SessionId = S1) {
    return this.write({ op: "multi", ops }, sessionId);
  }
}

const create = (path: string, data = "", ephemeral = false, sequential = false): ZkWriteOp => ({
  op: "create",
  path,
  data,
  ephemeral,
  sequential,
});

function stat(reply: ZkReply) {
  expect(reply.stat, JSON.stringify(reply)).to.be.an("object");
  return reply.stat!;
}

describe("zk/paths", () => {
  it("validates like PathUtils.validatePath", () => {
    const valid = ["/", "/a", "/a/b", "/a.b", "/..a", "/a..", "/.a", "/a/...", "/日本", "/a b", "/zookeeper"];
    const invalid = ["", "a", "a/b", "/a/", "//", "//a", "/a//b", "/.", "/..", "/a/.", "/a/..", "/./a", "/../a"];
    invalid.push("/a/./b", "/a/../b", "/a\u0000", "/a\u0001", "/a\u007f", "/a\u009f", "/a\ud800", "/a\uf8ff");
    invalid.push("/a\ufff0", "/a\uffff");
    for (const p of valid) expect(invalidPathReason(p), p).to.equal(null);
    for (const p of invalid) expect(invalidPathReason(p), JSON.stringify(p)).to.be.a("string");
  });

  it("checks a sequential path with a trailing '1', so '/q/' is a valid sequential prefix", () => {
    expect(isValidPath("/q/", true)).to.equal(true);
    expect(isValidPath("/q/")).to.equal(false);
    expect(isValidPath("/q/.", true)).to.equal(true); // "/q/.1"
    expect(isValidPath("/q//", true)).to.equal(false);
  });

  it("splits parents as the server does and formats suffixes as %010d", () => {
    expect(parentPath("/a")).to.equal("/");
    expect(parentPath("/a/b/c")).to.equal("/a/b");
    expect(parentPath("/")).to.equal("/");
    expect(sequenceSuffix(0)).to.equal("0000000000");
    expect(sequenceSuffix(42)).to.equal("0000000042");
    expect(sequenceSuffix(-5)).to.equal("-000000005");
  });
});

describe("zk/datatree", () => {
  describe("initial tree", () => {
    it("holds /, /zookeeper, /zookeeper/quota and /zookeeper/config as ZooKeeper 3.5+ does", () => {
      const t = new DataTree();
      expect(t.getChildren("/").children).to.deep.equal(["zookeeper"]);
      expect(t.getChildren("/zookeeper").children).to.deep.equal(["config", "quota"]);
      expect(t.nodeCount()).to.equal(4);
      expect(t.paths()).to.deep.equal(["/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]);
      // cversion is reported as 2 × creations − children: the built-in children were never "created".
      expect(stat(t.exists("/"))).to.include({ cversion: -1, numChildren: 1, version: 0, czxid: 0, pzxid: 0 });
      expect(stat(t.exists("/zookeeper"))).to.include({ cversion: -2, numChildren: 2 });
      expect(stat(t.exists("/zookeeper/config"))).to.include({ aversion: -1, cversion: 0, dataLength: 0 });
      expect(t.getData("/zookeeper/quota")).to.deep.include({ code: "OK", data: "" });
      expect(t.lastProcessedZxid).to.equal(0);
      expect(t.sessions.size).to.equal(0);
    });
  });

  describe("create", () => {
    it("creates a node with ZooKeeper's stat and bumps the parent's cversion and pzxid", () => {
      const l = new Leader();
      const r = l.create("/a", "héllo");
      expect(r.txn).to.deep.equal({ type: "create", path: "/a", data: "héllo", ephemeralOwner: 0, parentCVersion: 1 });
      expect(r.reply.code).to.equal("OK");
      expect(r.reply.path).to.equal("/a");
      expect(stat(r.reply)).to.deep.equal({
        czxid: r.zxid,
        mzxid: r.zxid,
        ctime: r.time,
        mtime: r.time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeralOwner: 0,
        dataLength: 6,
        numChildren: 0,
        pzxid: r.zxid,
      });
      expect(r.triggers).to.deep.equal([
        { path: "/a", event: "NodeCreated" },
        { path: "/", event: "NodeChildrenChanged" },
      ]);
      const root = stat(l.tree.exists("/"));
      expect(root).to.include({ numChildren: 2, cversion: 0, pzxid: r.zxid }); // 2×1 − 2
      expect(l.tree.getData("/a").data).to.equal("héllo");
      expect(l.tree.lastProcessedZxid).to.equal(r.zxid);

      const child = l.create("/a/b", "x");
      expect(child.triggers).to.deep.equal([
        { path: "/a/b", event: "NodeCreated" },
        { path: "/a", event: "NodeChildrenChanged" },
      ]);
      expect(stat(l.tree.exists("/a"))).to.include({ cversion: 1, numChildren: 1, pzxid: child.zxid, mzxid: r.zxid });
    });

    it("counts data length in UTF-8 bytes", () => {
      expect(utf8Length("")).to.equal(0);
      expect(utf8Length("abc")).to.equal(3);
      expect(utf8Length("é")).to.equal(2);
      expect(utf8Length("日本語")).to.equal(9);
      expect(utf8Length("😀")).to.equal(4);
      expect(utf8Length("\ud800")).to.equal(3); // a lone surrogate becomes U+FFFD
      const l = new Leader();
      expect(stat(l.create("/x", "日本語😀").reply).dataLength).to.equal(13);
    });

    it("answers NODEEXISTS, NONODE, NOCHILDRENFOREPHEMERALS, BADARGUMENTS and NOAUTH", () => {
      const l = new Leader();
      l.create("/a");
      l.create("/e", "", { ephemeral: true });
      const before = l.tree.digest();
      expect(l.create("/a").reply).to.deep.equal({ code: "NODEEXISTS" });
      expect(l.create("/").reply).to.deep.equal({ code: "NODEEXISTS" });
      expect(l.create("/zookeeper").reply.code).to.equal("NODEEXISTS");
      expect(l.create("/missing/b").reply).to.deep.equal({ code: "NONODE" });
      expect(l.create("/e/x").reply).to.deep.equal({ code: "NOCHILDRENFOREPHEMERALS" });
      expect(l.create("/e/x", "", { sequential: true }).reply.code).to.equal("NOCHILDRENFOREPHEMERALS");
      for (const bad of ["a", "/a/", "/a//b", "/a/.", "/a/..", "/a\u0000"]) {
        expect(l.create(bad).reply, bad).to.deep.equal({ code: "BADARGUMENTS" });
      }
      expect(l.create("/zookeeper/config/x").reply).to.deep.equal({ code: "NOAUTH" });
      const r = l.create("/missing/b");
      expect(r.txn).to.deep.equal({ type: "error", code: "NONODE" });
      expect(r.triggers).to.deep.equal([]);
      // error txns change nothing but lastProcessedZxid
      expect(l.tree.digest()).to.equal(before);
      expect(l.tree.lastProcessedZxid).to.equal(r.zxid);
    });

    it("checks the parent before NODEEXISTS, and NODEEXISTS before an ephemeral parent", () => {
      const l = new Leader();
      expect(l.create("/nope/x").reply.code).to.equal("NONODE");
      l.create("/e", "", { ephemeral: true });
      expect(l.create("/e").reply.code).to.equal("NODEEXISTS");
    });

    it("creates ephemerals owned by the session", () => {
      const l = new Leader();
      l.create("/p");
      const r = l.create("/p/e", "", { ephemeral: true, session: S2 });
      expect(r.txn).to.include({ ephemeralOwner: S2 });
      expect(stat(r.reply).ephemeralOwner).to.equal(S2);
      expect(l.tree.ephemerals(S2)).to.deep.equal(["/p/e"]);
      expect(l.tree.ephemerals(S1)).to.deep.equal([]);
      expect(l.tree.ephemeralOwners()).to.deep.equal([S2]);
    });
  });

  describe("sequential znodes", () => {
    it("append the parent's count of child creations, %010d, which deletes do not lower", () => {
      const l = new Leader();
      l.create("/q");
      expect(l.create("/q/n-", "", { sequential: true }).reply.path).to.equal("/q/n-0000000000");
      expect(l.create("/q/n-", "", { sequential: true }).reply.path).to.equal("/q/n-0000000001");
      l.create("/q/plain");
      expect(l.create("/q/n-", "", { sequential: true }).reply.path).to.equal("/q/n-0000000003");
      l.delete("/q/n-0000000000");
      l.delete("/q/plain");
      // reported cversion = creations + deletions; the suffix keeps counting creations
      expect(stat(l.tree.exists("/q"))).to.include({ cversion: 6, numChildren: 2 });
      const r = l.create("/q/n-", "", { sequential: true });
      expect(r.reply.path).to.equal("/q/n-0000000004");
      expect(r.txn).to.include({ path: "/q/n-0000000004", parentCVersion: 5 });
      expect(l.tree.getChildren("/q").children).to.deep.equal(["n-0000000001", "n-0000000003", "n-0000000004"]);
    });

    it("accept a trailing slash as prefix, and sequential ephemerals", () => {
      const l = new Leader();
      l.create("/q");
      expect(l.create("/q/", "", { sequential: true }).reply.path).to.equal("/q/0000000000");
      const e = l.create("/q/lock-", "", { sequential: true, ephemeral: true, session: S2 });
      expect(e.reply.path).to.equal("/q/lock-0000000001");
      expect(l.tree.ephemerals(S2)).to.deep.equal(["/q/lock-0000000001"]);
      // under the root: its count starts at 0 (the built-in /zookeeper was never "created"); /q made it 1
      expect(l.create("/", "", { sequential: true }).reply.path).to.equal("/0000000001");
    });

    it("answer NODEEXISTS while the numbered name is taken (the counter only moves on a successful create)", () => {
      const l = new Leader();
      l.create("/q");
      l.create("/q/n-0000000001");
      expect(l.create("/q/n-", "", { sequential: true }).reply.code).to.equal("NODEEXISTS");
      expect(l.create("/q/n-", "", { sequential: true }).reply.code).to.equal("NODEEXISTS");
      l.create("/q/other");
      expect(l.create("/q/n-", "", { sequential: true }).reply.path).to.equal("/q/n-0000000002");
    });
  });

  describe("delete", () => {
    it("removes the node, moves the parent's pzxid and reported cversion, fires NodeDeleted + ChildrenChanged", () => {
      const l = new Leader();
      l.create("/a");
      l.create("/a/b");
      const r = l.delete("/a/b", 0);
      expect(r.reply).to.deep.equal({ code: "OK" });
      expect(r.txn).to.deep.equal({ type: "delete", path: "/a/b" });
      expect(r.triggers).to.deep.equal([
        { path: "/a/b", event: "NodeDeleted" },
        { path: "/a", event: "NodeChildrenChanged" },
      ]);
      expect(l.tree.exists("/a/b")).to.deep.equal({ code: "OK", stat: null });
      expect(stat(l.tree.exists("/a"))).to.include({ numChildren: 0, cversion: 2, pzxid: r.zxid });
      expect(l.delete("/a").triggers[1]).to.deep.equal({ path: "/", event: "NodeChildrenChanged" });
    });

    it("answers NONODE, BADVERSION (before NOTEMPTY), NOTEMPTY, BADARGUMENTS and NOAUTH", () => {
      const l = new Leader();
      l.create("/a");
      l.create("/a/b");
      l.setData("/a", "v1");
      expect(l.delete("/nope").reply.code).to.equal("NONODE");
      expect(l.delete("/nope/x").reply.code).to.equal("NONODE");
      expect(l.delete("/a", 0).reply.code).to.equal("BADVERSION");
      expect(l.delete("/a", 1).reply.code).to.equal("NOTEMPTY");
      expect(l.delete("/a", -1).reply.code).to.equal("NOTEMPTY");
      for (const special of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
        expect(l.delete(special).reply.code, special).to.equal("BADARGUMENTS");
      }
      expect(l.delete("/a/").reply.code).to.equal("BADARGUMENTS");
      expect(l.delete("/zookeeper/config/x").reply.code).to.equal("NOAUTH");
      expect(l.tree.nodeCount()).to.equal(6);
    });

    it("drops a deleted ephemeral from its session", () => {
      const l = new Leader();
      l.create("/e1", "", { ephemeral: true, session: S2 });
      l.create("/e2", "", { ephemeral: true, session: S2 });
      l.delete("/e1");
      expect(l.tree.ephemerals(S2)).to.deep.equal(["/e2"]);
      l.delete("/e2");
      expect(l.tree.ephemeralOwners()).to.deep.equal([]);
    });
  });

  describe("setData", () => {
    it("bumps version, sets mzxid, mtime and dataLength, and fires NodeDataChanged", () => {
      const l = new Leader();
      const c = l.create("/a", "x");
      const r = l.setData("/a", "日本", 0);
      expect(r.txn).to.deep.equal({ type: "setData", path: "/a", data: "日本", version: 1 });
      expect(stat(r.reply)).to.include({ version: 1, mzxid: r.zxid, mtime: r.time, dataLength: 6 });
      expect(stat(r.reply)).to.include({ czxid: c.zxid, ctime: c.time, pzxid: c.zxid });
      expect(r.triggers).to.deep.equal([{ path: "/a", event: "NodeDataChanged" }]);
      expect(l.setData("/a", "", -1).reply.stat!.version).to.equal(2);
      expect(l.tree.getData("/a")).to.deep.include({ data: "" });
      expect(stat(l.tree.getData("/a")).dataLength).to.equal(0);
    });

    it("answers NONODE, BADVERSION, BADARGUMENTS and NOAUTH", () => {
      const l = new Leader();
      l.create("/a");
      expect(l.setData("/nope", "x").reply.code).to.equal("NONODE");
      expect(l.setData("/a", "x", 1).reply.code).to.equal("BADVERSION");
      expect(l.setData("/a/", "x").reply.code).to.equal("BADARGUMENTS");
      expect(l.setData("/zookeeper/config", "x").reply.code).to.equal("NOAUTH");
      expect(l.setData("/zookeeper/quota", "x").reply.code).to.equal("OK");
      expect(stat(l.tree.exists("/a")).version).to.equal(0);
    });
  });

  describe("check", () => {
    it("compares versions, alone or in a multi", () => {
      const l = new Leader();
      l.create("/a");
      expect(l.write({ op: "check", path: "/a", version: 0 }).reply).to.deep.equal({ code: "OK" });
      const any = l.write({ op: "check", path: "/a", version: -1 });
      expect(any.txn).to.deep.equal({ type: "check", path: "/a", version: 1 });
      expect(l.write({ op: "check", path: "/a", version: 3 }).reply.code).to.equal("BADVERSION");
      expect(l.write({ op: "check", path: "/b", version: 0 }).reply.code).to.equal("NONODE");
      expect(l.write({ op: "check", path: "b", version: 0 }).reply.code).to.equal("BADARGUMENTS");
      expect(l.write({ op: "check", path: "/zookeeper/config", version: 0 }).reply.code).to.equal("OK");
    });
  });

  describe("multi", () => {
    it("applies all sub-operations at one zxid, each seeing the earlier ones", () => {
      const l = new Leader();
      l.create("/a", "x");
      const r = l.multi([
        create("/a/b"),
        create("/a/b/c", "", false, true),
        { op: "setData", path: "/a", data: "y", version: 0 },
        { op: "setData", path: "/a", data: "z", version: 1 },
        { op: "check", path: "/a", version: 2 },
        { op: "delete", path: "/a/b/c0000000000", version: 0 },
        create("/a/b/c0000000000"),
        create("/a/b/c", "", false, true),
      ]);
      expect(r.reply.code).to.equal("OK");
      expect(r.reply.results!.map((x) => [x.op, x.code, x.path])).to.deep.equal([
        ["create", "OK", "/a/b"],
        ["create", "OK", "/a/b/c0000000000"],
        ["setData", "OK", undefined],
        ["setData", "OK", undefined],
        ["check", "OK", undefined],
        ["delete", "OK", undefined],
        ["create", "OK", "/a/b/c0000000000"],
        ["create", "OK", "/a/b/c0000000002"],
      ]);
      expect(r.reply.results![3].stat).to.include({ version: 2, mzxid: r.zxid });
      expect(l.tree.getChildren("/a/b").children).to.deep.equal(["c0000000000", "c0000000002"]);
      expect(stat(l.tree.getData("/a"))).to.include({ version: 2, mzxid: r.zxid, pzxid: r.zxid });
      // 3 creates + 1 delete
      expect(stat(l.tree.exists("/a/b"))).to.include({ czxid: r.zxid, cversion: 4, numChildren: 2 });
      expect(r.triggers).to.deep.equal([
        { path: "/a/b", event: "NodeCreated" },
        { path: "/a", event: "NodeChildrenChanged" },
        { path: "/a/b/c0000000000", event: "NodeCreated" },
        { path: "/a/b", event: "NodeChildrenChanged" },
        { path: "/a", event: "NodeDataChanged" },
        { path: "/a", event: "NodeDataChanged" },
        { path: "/a/b/c0000000000", event: "NodeDeleted" },
        { path: "/a/b", event: "NodeChildrenChanged" },
        { path: "/a/b/c0000000000", event: "NodeCreated" },
        { path: "/a/b", event: "NodeChildrenChanged" },
        { path: "/a/b/c0000000002", event: "NodeCreated" },
        { path: "/a/b", event: "NodeChildrenChanged" },
      ]);
    });

    it("on failure changes nothing: OK before the failing op, its code, RUNTIMEINCONSISTENCY after", () => {
      const l = new Leader();
      l.create("/a");
      const before = l.tree.snapshot();
      const r = l.multi([
        create("/a/b"),
        { op: "setData", path: "/a", data: "y", version: 0 },
        { op: "delete", path: "/nope", version: -1 },
        { op: "check", path: "/a", version: 0 },
        create("/c"),
      ]);
      expect(r.reply).to.deep.equal({
        code: "NONODE",
        results: [
          { op: "create", code: "OK" },
          { op: "setData", code: "OK" },
          { op: "delete", code: "NONODE" },
          { op: "check", code: "RUNTIMEINCONSISTENCY" },
          { op: "create", code: "RUNTIMEINCONSISTENCY" },
        ],
      });
      expect(r.triggers).to.deep.equal([]);
      // The txn keeps the prepared sub-txns before the failure, as ZooKeeper's MultiTxn does.
      expect(r.txn).to.deep.equal({
        type: "multi",
        txns: [
          { type: "create", path: "/a/b", data: "", ephemeralOwner: 0, parentCVersion: 1 },
          { type: "setData", path: "/a", data: "y", version: 1 },
          { type: "error", code: "NONODE", op: "delete" },
          { type: "error", code: "RUNTIMEINCONSISTENCY", op: "check" },
          { type: "error", code: "RUNTIMEINCONSISTENCY", op: "create" },
        ],
      });
      const after = l.tree.snapshot();
      expect(after.nodes).to.deep.equal(before.nodes);
      expect(l.tree.lastProcessedZxid).to.equal(r.zxid);
    });

    it("fails on an error only earlier sub-operations cause, and a later multi still sees the old tree", () => {
      const l = new Leader();
      const r = l.multi([create("/a"), create("/a")]);
      expect(r.reply.results!.map((x) => x.code)).to.deep.equal(["OK", "NODEEXISTS"]);
      expect(l.tree.exists("/a").stat).to.equal(null);
      const r2 = l.multi([create("/a"), create("/a/b"), { op: "delete", path: "/a", version: -1 }]);
      expect(r2.reply.results!.map((x) => x.code)).to.deep.equal(["OK", "OK", "NOTEMPTY"]);
      expect(l.tree.nodeCount()).to.equal(4);
      const r3 = l.multi([create("/e", "", true), create("/e/x")], S2);
      expect(r3.reply.code).to.equal("NOCHILDRENFOREPHEMERALS");
      expect(l.tree.ephemerals(S2)).to.deep.equal([]);
    });

    it("answers an empty multi with OK and no results", () => {
      const l = new Leader();
      const r = l.multi([]);
      expect(r.reply).to.deep.equal({ code: "OK", results: [] });
      expect(r.txn).to.deep.equal({ type: "multi", txns: [] });
    });

    it("reports a sub-operation's invalid path as BADARGUMENTS in the results", () => {
      const l = new Leader();
      const r = l.multi([create("/ok"), { op: "setData", path: "/bad/", data: "", version: -1 }, create("/x")]);
      expect(r.reply.results!.map((x) => x.code)).to.deep.equal(["OK", "BADARGUMENTS", "RUNTIMEINCONSISTENCY"]);
    });

    it("applies a failed multi whose txn has only error sub-txns the same way", () => {
      const t = new DataTree();
      const header: ZkTxnHeader = { zxid: 5, time: 1, sessionId: S1, cxid: 1 };
      const { reply } = t.apply({
        header,
        txn: {
          type: "multi",
          txns: [
            { type: "error", code: "OK", op: "create" },
            { type: "error", code: "BADVERSION", op: "setData" },
          ],
        },
      });
      expect(reply).to.deep.equal({
        code: "BADVERSION",
        results: [
          { op: "create", code: "OK" },
          { op: "setData", code: "BADVERSION" },
        ],
      });
      expect(t.nodeCount()).to.equal(4);
    });
  });

  describe("sessions", () => {
    it("createSession adds to the session table and closeSession deletes its ephemerals in path order", () => {
      const l = new Leader();
      expect(l.write({ op: "createSession", timeoutMs: 6000 }, S2).reply).to.deep.equal({ code: "OK" });
      expect([...l.tree.sessions]).to.deep.equal([[S2, 6000]]);
      l.create("/p");
      l.create("/p/z", "", { ephemeral: true, session: S2 });
      l.create("/b", "", { ephemeral: true, session: S2 });
      l.create("/p/a", "", { ephemeral: true, session: S2 });
      l.create("/mine", "", { ephemeral: true, session: S1 });
      expect(l.tree.ephemerals(S2)).to.deep.equal(["/b", "/p/a", "/p/z"]);
      const r = l.write({ op: "closeSession" }, S2);
      expect(r.txn).to.deep.equal({ type: "closeSession" });
      expect(r.reply).to.deep.equal({ code: "OK" });
      expect(r.triggers).to.deep.equal([
        { path: "/b", event: "NodeDeleted" },
        { path: "/", event: "NodeChildrenChanged" },
        { path: "/p/a", event: "NodeDeleted" },
        { path: "/p", event: "NodeChildrenChanged" },
        { path: "/p/z", event: "NodeDeleted" },
        { path: "/p", event: "NodeChildrenChanged" },
      ]);
      expect(l.tree.sessions.size).to.equal(0);
      expect(l.tree.ephemerals(S2)).to.deep.equal([]);
      expect(l.tree.getChildren("/").children).to.deep.equal(["mine", "p", "zookeeper"]);
      expect(stat(l.tree.exists("/p"))).to.include({ numChildren: 0, cversion: 4, pzxid: r.zxid });
      expect(l.tree.ephemerals(S1)).to.deep.equal(["/mine"]);
    });

    it("closing a session without ephemerals, or an unknown one, only drops it", () => {
      const l = new Leader();
      l.write({ op: "createSession", timeoutMs: 4000 }, S1);
      const before = l.tree.digest();
      expect(l.write({ op: "closeSession" }, S2).triggers).to.deep.equal([]);
      expect(l.tree.digest()).to.equal(before);
      l.write({ op: "closeSession" }, S1);
      expect(l.tree.sessions.size).to.equal(0);
    });
  });

  describe("reads", () => {
    it("getData, exists and getChildren answer NONODE / null and BADARGUMENTS", () => {
      const t = new DataTree();
      expect(t.getData("/nope")).to.deep.equal({ code: "NONODE" });
      expect(t.getChildren("/nope")).to.deep.equal({ code: "NONODE" });
      expect(t.exists("/nope")).to.deep.equal({ code: "OK", stat: null });
      for (const bad of ["", "x", "/x/", "/x//y"]) {
        expect(t.getData(bad).code).to.equal("BADARGUMENTS");
        expect(t.exists(bad).code).to.equal("BADARGUMENTS");
        expect(t.getChildren(bad).code).to.equal("BADARGUMENTS");
      }
      expect(t.statOf("/nope")).to.equal(null);
    });

    it("lists children sorted", () => {
      const l = new Leader();
      for (const name of ["b", "a", "c10", "c9", "B"]) l.create("/" + name);
      expect(l.tree.getChildren("/").children).to.deep.equal(["B", "a", "b", "c10", "c9", "zookeeper"]);
    });
  });

  describe("apply", () => {
    it("replays the leader's txns on a follower to the same tree, replies and triggers", () => {
      const l = new Leader();
      const f = new DataTree();
      l.write({ op: "createSession", timeoutMs: 5000 }, S2);
      l.create("/a", "x");
      l.create("/a/s", "", { sequential: true, ephemeral: true, session: S2 });
      l.multi([create("/a/b"), { op: "setData", path: "/a", data: "y", version: 0 }]);
      l.multi([create("/c"), { op: "delete", path: "/zz", version: -1 }]);
      l.setData("/a", "z", 7);
      l.write({ op: "closeSession" }, S2);
      for (const [i, entry] of l.log.entries()) {
        const out = f.apply(JSON.parse(JSON.stringify(entry)) as ZkTxnEntry);
        expect(out.reply, `entry ${i}`).to.deep.equal(l.replies[i]);
      }
      expect(f.digest()).to.equal(l.tree.digest());
      expect(f.snapshot()).to.deep.equal(l.tree.snapshot());
      expect(f.lastProcessedZxid).to.equal(l.tree.lastProcessedZxid);
    });

    it("never lowers a parent's cversion or pzxid when replaying an older create (as createNode)", () => {
      const l = new Leader();
      l.create("/p");
      l.create("/p/a");
      l.create("/p/b");
      const t = l.tree;
      const pz = t.statOf("/p")!.pzxid;
      expect(t.statOf("/p")!.cversion).to.equal(2);
      t.apply({
        header: { zxid: makeZxid(1, 100), time: 5, sessionId: S1, cxid: 1 },
        txn: { type: "create", path: "/p/old", data: "", ephemeralOwner: 0, parentCVersion: 1 },
      });
      // the stored count stays 2 (not set back to 1), pzxid stays: reported cversion = 2 × 2 − 3 children
      expect(t.statOf("/p")).to.include({ cversion: 1, pzxid: pz, numChildren: 3 });
    });

    it("turns a txn that does not fit the tree into its error code and changes nothing (processTxn's catch)", () => {
      const t = new DataTree();
      const header: ZkTxnHeader = { zxid: 9, time: 1, sessionId: S1, cxid: 1 };
      const before = t.digest();
      const code = (txn: ZkTxn) => t.apply({ header, txn }).reply.code;
      expect(code({ type: "create", path: "/x/y", data: "", ephemeralOwner: 0, parentCVersion: 1 })).to.equal("NONODE");
      expect(code({ type: "setData", path: "/x", data: "", version: 1 })).to.equal("NONODE");
      expect(code({ type: "delete", path: "/x/y" })).to.equal("NONODE");
      const again: ZkTxn = { type: "create", path: "/zookeeper", data: "", ephemeralOwner: 0, parentCVersion: 1 };
      expect(code(again)).to.equal("NODEEXISTS");
      expect(t.digest()).to.equal(before);
      expect(t.lastProcessedZxid).to.equal(9);
    });

    it("prepare alone does not change the tree", () => {
      const l = new Leader();
      l.create("/a");
      const before = l.tree.snapshot();
      const ops: ZkWriteOp[] = [create("/a/b"), { op: "delete", path: "/a", version: -1 }];
      const txn = l.tree.prepare(l.header(), { op: "multi", ops });
      expect(txn.type).to.equal("multi");
      l.tree.prepare(l.header(), create("/b"));
      expect(l.tree.snapshot()).to.deep.equal(before);
    });
  });

  describe("clone, snapshot, digest", () => {
    function sample(): Leader {
      const l = new Leader();
      l.write({ op: "createSession", timeoutMs: 5000 }, S2);
      l.create("/a", "x");
      l.create("/a/b", "日本");
      l.create("/a/e", "", { ephemeral: true, session: S2 });
      expect(l.create("/a/q-", "", { sequential: true }).reply.path).to.equal("/a/q-0000000002");
      l.setData("/a", "y");
      expect(l.delete("/a/q-0000000002").reply.code).to.equal("OK");
      return l;
    }

    it("clone is deep: changing one leaves the other alone", () => {
      const l = sample();
      const c = l.tree.clone();
      expect(c.digest()).to.equal(l.tree.digest());
      expect(c.snapshot()).to.deep.equal(l.tree.snapshot());
      c.apply({
        header: { zxid: makeZxid(2, 1), time: 9, sessionId: S1, cxid: 1 },
        txn: { type: "setData", path: "/a/b", data: "z", version: 1 },
      });
      c.apply({ header: { zxid: makeZxid(2, 2), time: 9, sessionId: S2, cxid: 1 }, txn: { type: "closeSession" } });
      expect(c.digest()).to.not.equal(l.tree.digest());
      expect(l.tree.getData("/a/b").data).to.equal("日本");
      expect(l.tree.ephemerals(S2)).to.deep.equal(["/a/e"]);
      expect(l.tree.sessions.get(S2)).to.equal(5000);
      expect(c.lastProcessedZxid).to.not.equal(l.tree.lastProcessedZxid);
    });

    it("snapshot survives JSON and restores the same tree, ephemerals and sessions", () => {
      const l = sample();
      const s = JSON.parse(JSON.stringify(l.tree.snapshot()));
      const t = DataTree.fromSnapshot(s);
      expect(t.digest()).to.equal(l.tree.digest());
      expect(t.snapshot()).to.deep.equal(l.tree.snapshot());
      expect(t.ephemerals(S2)).to.deep.equal(["/a/e"]);
      expect(t.getChildren("/a")).to.deep.equal(l.tree.getChildren("/a"));
      expect(t.lastProcessedZxid).to.equal(l.tree.lastProcessedZxid);
      // and behaves the same afterwards (the sequence counter is kept)
      const h: ZkTxnHeader = { zxid: makeZxid(3, 1), time: 7, sessionId: S1, cxid: 1 };
      const a = t.prepareAndApply(h, create("/a/q-", "", false, true));
      const b = l.tree.prepareAndApply(h, create("/a/q-", "", false, true));
      expect(a).to.deep.equal(b);
      expect(a.reply.path).to.equal("/a/q-0000000003");
    });

    it("fromSnapshot rejects a node without a parent", () => {
      const s = new DataTree().snapshot();
      s.nodes.push({ ...s.nodes[1], path: "/x/y" });
      expect(() => DataTree.fromSnapshot(s)).to.throw(/no parent/);
    });

    it("digest covers paths, data, stats and sessions, not lastProcessedZxid", () => {
      const a = sample();
      const b = sample();
      expect(a.tree.digest()).to.equal(b.tree.digest());
      expect(a.tree.digest()).to.match(/^[0-9a-f]{16}$/);
      b.write({ op: "check", path: "/a", version: -1 });
      expect(b.tree.digest()).to.equal(a.tree.digest());
      const variants: ((l: Leader) => void)[] = [
        (l) => l.setData("/a/b", "日本"), // same data, new version/mzxid
        (l) => l.create("/z"),
        (l) => l.write({ op: "createSession", timeoutMs: 1 }, 0x999),
        (l) => l.delete("/a/b"),
      ];
      for (const change of variants) {
        const c = sample();
        change(c);
        expect(c.tree.digest()).to.not.equal(a.tree.digest());
      }
      // data alone (same stat: same version, zxid, time)
      const x = sample().tree;
      const y = x.clone();
      const h: ZkTxnHeader = { zxid: makeZxid(5, 1), time: 3, sessionId: S1, cxid: 1 };
      x.apply({ header: h, txn: { type: "setData", path: "/a/b", data: "ab", version: 9 } });
      y.apply({ header: h, txn: { type: "setData", path: "/a/b", data: "ba", version: 9 } });
      expect(x.statOf("/a/b")).to.deep.equal(y.statOf("/a/b"));
      expect(x.digest()).to.not.equal(y.digest());
      const d = new DataTree();
      const e = new DataTree();
      const one: ZkTxnHeader = { zxid: 1, time: 1, sessionId: S1, cxid: 1 };
      d.apply({ header: one, txn: { type: "create", path: "/ab", data: "", ephemeralOwner: 0, parentCVersion: 1 } });
      e.apply({ header: one, txn: { type: "create", path: "/a", data: "b", ephemeralOwner: 0, parentCVersion: 1 } });
      expect(d.digest()).to.not.equal(e.digest());
    });
  });

  describe("properties", () => {
    const SESSIONS = [S1, S2, 0x303];
    const seg = fc.constantFrom("a", "b", "c", "n0000000000", "n0000000001");
    const path = fc
      .array(seg, { minLength: 1, maxLength: 3 })
      .map((s) => "/" + s.join("/"))
      .chain((p) => fc.constantFrom(p, p, p, p, p, p, p, p, p + "/", "/", "x", "/zookeeper", "/zookeeper/config"));
    const version = fc.constantFrom(-1, -1, 0, 1, 2);
    const data = fc.constantFrom("", "d", "é");
    const writeOp: fc.Arbitrary<ZkWriteOp> = fc.oneof(
      fc.record({ op: fc.constant("create" as const), path, data, ephemeral: fc.boolean(), sequential: fc.boolean() }),
      fc.record({ op: fc.constant("delete" as const), path, version }),
      fc.record({ op: fc.constant("setData" as const), path, data, version }),
      fc.record({ op: fc.constant("check" as const), path, version }),
    );
    const request: fc.Arbitrary<ZkTxnRequest> = fc.oneof(
      { weight: 6, arbitrary: writeOp },
      { weight: 2, arbitrary: fc.array(writeOp, { maxLength: 5 }).map((ops) => ({ op: "multi" as const, ops })) },
      { weight: 1, arbitrary: fc.constant({ op: "closeSession" as const }) },
      { weight: 1, arbitrary: fc.constant({ op: "createSession" as const, timeoutMs: 4000 }) },
    );
    const steps = fc.array(fc.tuple(request, fc.constantFrom(...SESSIONS)), { maxLength: 60 });

    /** Structural invariants: children and numChildren agree with the paths; ephemeral index agrees with owners. */
    function checkInvariants(t: DataTree) {
      const paths = t.paths();
      for (const p of paths) {
        const kids = paths
          .filter((q) => q !== "/" && q !== p && parentPath(q) === p)
          .map((q) => q.slice(q.lastIndexOf("/") + 1));
        const r = t.getChildren(p);
        expect(r.children, p).to.deep.equal(kids.sort());
        expect(r.stat!.numChildren).to.equal(kids.length);
        if (r.stat!.ephemeralOwner !== 0) {
          expect(kids, `ephemeral ${p} has children`).to.deep.equal([]);
          expect(t.ephemerals(r.stat!.ephemeralOwner)).to.include(p);
        }
      }
      for (const owner of t.ephemeralOwners()) {
        for (const p of t.ephemerals(owner)) expect(t.statOf(p)!.ephemeralOwner).to.equal(owner);
      }
    }

    it("prepareAndApply on one tree and apply on another give equal digests, replies and triggers", () => {
      fc.assert(
        fc.property(steps, (ops) => {
          const leader = new DataTree();
          const follower = new DataTree();
          let n = 0;
          for (const [req, session] of ops) {
            n++;
            const header: ZkTxnHeader = { zxid: makeZxid(1, n), time: n, sessionId: session, cxid: n };
            const led = leader.prepareAndApply(header, req);
            const json = JSON.parse(JSON.stringify({ header, txn: led.txn })) as ZkTxnEntry; // as if logged
            const applied = follower.apply(json);
            expect(applied.reply).to.deep.equal(led.reply);
            expect(applied.triggers).to.deep.equal(led.triggers);
          }
          expect(follower.digest()).to.equal(leader.digest());
          expect(follower.snapshot()).to.deep.equal(leader.snapshot());
          checkInvariants(leader);
        }),
        { numRuns: 300, seed: 424242 },
      );
    });

    it("a speculative clone prepares what the committed tree applies identically; snapshots restore mid-run", () => {
      fc.assert(
        fc.property(steps, fc.nat(60), (ops, cut) => {
          const committed = new DataTree();
          const speculative = committed.clone();
          let restored: DataTree | null = null;
          let n = 0;
          for (const [req, session] of ops) {
            n++;
            const header: ZkTxnHeader = { zxid: makeZxid(2, n), time: n, sessionId: session, cxid: n };
            const before = speculative.digest();
            const txn = speculative.prepare(header, req);
            expect(speculative.digest()).to.equal(before);
            const led = speculative.prepareAndApply(header, req);
            expect(led.txn).to.deep.equal(txn);
            committed.apply({ header, txn });
            if (restored) restored.apply({ header, txn });
            if (n === cut) restored = DataTree.fromSnapshot(JSON.parse(JSON.stringify(committed.snapshot())));
          }
          expect(committed.digest()).to.equal(speculative.digest());
          if (restored) expect(restored.snapshot()).to.deep.equal(committed.snapshot());
        }),
        { numRuns: 200, seed: 777 },
      );
    });

    it("a failed multi changes nothing; a successful one equals its sub-operations applied one by one", () => {
      fc.assert(
        fc.property(steps, fc.array(writeOp, { minLength: 1, maxLength: 5 }), (setup, ops) => {
          const t = new DataTree();
          let n = 0;
          for (const [req, session] of setup) {
            n++;
            t.prepareAndApply({ zxid: n, time: n, sessionId: session, cxid: n }, req);
          }
          const one = t.clone();
          const header: ZkTxnHeader = { zxid: n + 1, time: n + 1, sessionId: S1, cxid: n + 1 };
          const multi = t.prepareAndApply(header, { op: "multi", ops });
          const codes = multi.reply.results!.map((r) => r.code);
          if (multi.reply.code === "OK") {
            for (const op of ops) expect(one.prepareAndApply(header, op).reply.code).to.equal("OK");
            expect(one.digest()).to.equal(t.digest());
            expect(codes.every((c) => c === "OK")).to.equal(true);
          } else {
            const failing = codes.findIndex((c) => c !== "OK");
            expect(codes[failing]).to.equal(multi.reply.code);
            expect(codes.slice(failing + 1).every((c) => c === "RUNTIMEINCONSISTENCY")).to.equal(true);
            expect(t.snapshot().nodes).to.deep.equal(one.snapshot().nodes);
            expect(multi.triggers).to.deep.equal([]);
            // the failing sub-op fails the same way when the earlier ones are applied alone
            for (const op of ops.slice(0, failing)) one.prepareAndApply(header, op);
            expect(one.prepareAndApply(header, ops[failing]).reply.code).to.equal(multi.reply.code);
          }
        }),
        { numRuns: 300, seed: 99 },
      );
    });
  });
});
