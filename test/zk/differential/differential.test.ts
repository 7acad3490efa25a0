/**
 * Differential test: the DataTree model (with WatchManager), and the simulated three-server ensemble driven
 * through the simulated client, each against a real ZooKeeper 3.8 server. All run the same operation
 * sequences and must give exactly the same normalised results (codes, paths, data, children, deterministic
 * stat fields, watch events). Needs `java` and Debian's zookeeper package:
 *   apt-get update && apt-get install -y zookeeper
 * Without them the suite is skipped with one message.
 * KAFKASIM_ZK_DIFF_RUNS and KAFKASIM_ZK_DIFF_SEED override the number of random runs and the seed.
 */

import { expect } from "chai";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { DataTree } from "../../../src/zk/datatree.ts";
import { DataTreeUnderTest } from "./datatree-adapter.ts";
import { EnsembleUnderTest } from "./ensemble-adapter.ts";
import { realZooKeeperUnavailable, startRealZooKeeper, type RealZooKeeper } from "./launcher.ts";
import { RawSession, rawStat } from "./nzc.ts";
import { diffOps, formatOps, type DiffOp, type DiffResult, type ZkUnderTest } from "./ops.ts";
import { RealZkUnderTest } from "./real-adapter.ts";

const RUNS = Number(process.env.KAFKASIM_ZK_DIFF_RUNS ?? 100);
const SEED = Number(process.env.KAFKASIM_ZK_DIFF_SEED ?? 20_240_601);

function plain(results: DiffResult[]): DiffResult[] {
  return JSON.parse(JSON.stringify(results)) as DiffResult[];
}

/** Runs `ops` on both and throws a readable error at the first op where they disagree. */
export async function compareOn(
  ops: DiffOp[],
  reference: ZkUnderTest,
  candidate: ZkUnderTest,
  names = ["real ZooKeeper", "model"],
): Promise<DiffResult[]> {
  const expected = plain(await reference.run(ops));
  await compareWith(ops, expected, candidate, names);
  return expected;
}

/** Runs `ops` on `candidate` and throws a readable error at the first op where it disagrees with `expected`. */
export async function compareWith(
  ops: DiffOp[],
  expected: DiffResult[],
  candidate: ZkUnderTest,
  names: string[],
): Promise<void> {
  const actual = plain(await candidate.run(ops));
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (!isDeepStrictEqual(expected[i], actual[i])) {
      throw new Error(
        `${names[0]} and ${names[1]} disagree at op ${i}.\nops:\n${formatOps(ops)}\n` +
          `op ${i} on ${names[0]}: ${JSON.stringify(expected[i])}\n` +
          `op ${i} on ${names[1]}: ${JSON.stringify(actual[i])}\n` +
          `all results on ${names[0]}:\n${expected.map((r, j) => `  ${j} ${JSON.stringify(r)}`).join("\n")}\n` +
          `all results on ${names[1]}:\n${actual.map((r, j) => `  ${j} ${JSON.stringify(r)}`).join("\n")}`,
      );
    }
  }
}

/** A hand-written sequence through the behaviours that matter most (checked against explicit expectations too). */
const SCRIPT: DiffOp[] = [
  { op: "create", session: "A", path: "/p", data: "x", ephemeral: false, sequential: false }, // 0
  { op: "create", session: "A", path: "/p/s", data: "", ephemeral: false, sequential: true }, // 1
  { op: "create", session: "A", path: "/p/s", data: "", ephemeral: false, sequential: true }, // 2
  { op: "delete", session: "A", path: "/p/s0000000000", version: -1 }, // 3
  { op: "exists", path: "/p", watch: false }, // 4
  { op: "create", session: "A", path: "/p/s", data: "", ephemeral: false, sequential: true }, // 5
  { op: "create", session: "A", path: "/p/", data: "", ephemeral: false, sequential: true }, // 6
  {
    op: "multi",
    session: "A",
    ops: [
      { op: "create", path: "/p/m", data: "", ephemeral: false, sequential: false },
      { op: "setData", path: "/p", data: "y", version: 0 },
      { op: "delete", path: "/nope", version: -1 },
      { op: "check", path: "/p", version: 0 },
    ],
  }, // 7
  { op: "exists", path: "/p", watch: false }, // 8
  { op: "multi", session: "A", ops: [] }, // 9
  { op: "getData", path: "/p", watch: true }, // 10
  { op: "getChildren", path: "/p", watch: true }, // 11
  { op: "exists", path: "/p", watch: true }, // 12
  { op: "create", session: "B", path: "/p/e", data: "", ephemeral: true, sequential: false }, // 13
  { op: "create", session: "B", path: "/p/e/x", data: "", ephemeral: false, sequential: false }, // 14
  { op: "getData", path: "/p/e", watch: true }, // 15
  { op: "getChildren", path: "/p", watch: true }, // 16
  { op: "closeSession" }, // 17
  { op: "setData", session: "A", path: "/p", data: "é", version: 0 }, // 18
  { op: "delete", session: "A", path: "/p/s0000000001", version: 5 }, // 19
  { op: "delete", session: "A", path: "/p", version: -1 }, // 20
  { op: "delete", session: "A", path: "/p/", version: -1 }, // 21
  {
    op: "multi",
    session: "A",
    ops: [
      { op: "create", path: "/p/t", data: "", ephemeral: false, sequential: true },
      { op: "create", path: "/p/t", data: "", ephemeral: false, sequential: true },
      { op: "check", path: "/p", version: 1 },
      { op: "setData", path: "/p", data: "", version: 1 },
    ],
  }, // 22
  { op: "getChildren", path: "/p", watch: false }, // 23
];

const MODEL = ["real ZooKeeper", "model"];
const ENSEMBLE = ["real ZooKeeper", "simulated ensemble"];

describe("zk differential: DataTree model and simulated ensemble vs real ZooKeeper 3.8", function () {
  this.timeout(240_000);
  let zk: RealZooKeeper | null = null;
  let real: RealZkUnderTest;
  const model = new DataTreeUnderTest();
  const ensemble = new EnsembleUnderTest();

  before(async function () {
    const why = realZooKeeperUnavailable();
    if (why) {
      console.log(`\n  zk differential tests skipped: ${why}\n`);
      this.skip();
    }
    zk = await startRealZooKeeper();
    real = new RealZkUnderTest(zk.connectString);
  });

  after(async () => {
    await zk?.stop();
  });

  it("starts from the same tree: /, /zookeeper, /zookeeper/quota, /zookeeper/config", async () => {
    const session = await RawSession.open(zk!.connectString);
    const tree = new DataTree();
    try {
      for (const path of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
        const r = await session.getChildren(path, false);
        const d = await session.getData(path, false);
        const s = rawStat(r.payload!.stat);
        const realView = {
          children: [...(r.payload!.children as string[])].sort(),
          data: (d.payload!.data as Buffer | undefined)?.toString("utf8") ?? "",
          stat: [s.czxid, s.mzxid, s.pzxid, s.ephemeralOwner]
            .map(Number)
            .concat([s.version, s.cversion, s.aversion, s.numChildren, s.dataLength]),
        };
        const m = tree.getChildren(path);
        const ms = m.stat!;
        const modelView = {
          children: m.children,
          data: tree.getData(path).data,
          stat: [ms.czxid, ms.mzxid, ms.pzxid, ms.ephemeralOwner]
            .concat([ms.version, ms.cversion, ms.aversion, ms.numChildren, ms.dataLength]),
        };
        expect(modelView, path).to.deep.equal(realView);
      }
    } finally {
      await session.close();
    }
  });

  it("agrees on a scripted sequence showing sequential numbering, cversion, multi results and watches", async () => {
    const r = await compareOn(SCRIPT, real, model, MODEL);
    await compareWith(SCRIPT, r, ensemble, ENSEMBLE);
    // What the real server did (so a change on either side that still agrees is noticed too):
    expect(r[1].path).to.equal("/p/s0000000000");
    expect(r[3].code).to.equal("OK");
    expect(r[4].stat).to.include({ cversion: 3, numChildren: 1 }); // 2 creates + 1 delete; 1 child left
    expect(r[5].path).to.equal("/p/s0000000002"); // the suffix counts creations only
    expect(r[6].path).to.equal("/p/0000000003");
    expect(r[7].code).to.equal("NONODE");
    expect(r[7].results!.map((x) => x.code)).to.deep.equal(["OK", "OK", "NONODE", "RUNTIMEINCONSISTENCY"]);
    expect(r[8].stat).to.include({ version: 0, numChildren: 3 }); // nothing of the failed multi happened
    expect(r[9]).to.deep.equal({ code: "OK", results: [], events: [] });
    expect(r[13].events).to.deep.equal([{ event: "NodeChildrenChanged", path: "/p" }]);
    expect(r[14].code).to.equal("NOCHILDRENFOREPHEMERALS");
    expect(r[17].events).to.deep.equal([
      { event: "NodeChildrenChanged", path: "/p" },
      { event: "NodeDeleted", path: "/p/e" },
    ]);
    expect(r[18].events).to.deep.equal([{ event: "NodeDataChanged", path: "/p" }]); // getData + exists: one event
    expect(r[18].stat).to.include({ version: 1, dataLength: 2 });
    expect(r[19].code).to.equal("BADVERSION");
    expect(r[20].code).to.equal("NOTEMPTY");
    expect(r[21].code).to.equal("BADARGUMENTS");
    expect(r[22].results!.map((x) => x.path)).to.deep.equal(["/p/t0000000005", "/p/t0000000006", undefined, undefined]);
    expect(r[23].children).to.deep.equal(["0000000003", "s0000000001", "s0000000002", "t0000000005", "t0000000006"]);
  });

  it(`agrees on ${RUNS} random op sequences of up to 30 ops (seed ${SEED})`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(diffOps(30), async (ops) => {
        const expected = await compareOn(ops, real, model, MODEL);
        await compareWith(ops, expected, ensemble, ENSEMBLE);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    if (process.env.KAFKASIM_ZK_DIFF_TIMING) console.log(`    ${RUNS} runs in ${Date.now() - started} ms`);
  });
});
