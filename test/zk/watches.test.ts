import { expect } from "chai";
import fc from "fast-check";
import type { ZkWatchEventType } from "../../src/protocol/zk.ts";
import { WatchManager, type FiredWatch, type WatchKind, type WatchTrigger } from "../../src/zk/watches.ts";

const fire = (m: WatchManager<string>, path: string, event: ZkWatchEventType) =>
  m.trigger([{ path, event }]).map((f) => `${f.watcher} ${f.event} ${f.path}`);

describe("zk/watches", () => {
  it("fires once and forgets the watch", () => {
    const m = new WatchManager<string>();
    m.add("data", "/a", "s1");
    expect(m.has("data", "/a", "s1")).to.equal(true);
    expect(fire(m, "/a", "NodeDataChanged")).to.deep.equal(["s1 NodeDataChanged /a"]);
    expect(fire(m, "/a", "NodeDataChanged")).to.deep.equal([]);
    expect(m.size()).to.equal(0);
    expect(m.watchesOf("s1")).to.deep.equal({ data: [], exist: [], child: [] });
  });

  it("NodeCreated and NodeDataChanged fire data and exist watches, not child watches", () => {
    for (const event of ["NodeCreated", "NodeDataChanged"] as const) {
      const m = new WatchManager<string>();
      m.add("exist", "/a", "s1");
      m.add("data", "/a", "s2");
      m.add("child", "/a", "s3");
      m.add("data", "/b", "s4");
      expect(fire(m, "/a", event)).to.deep.equal([`s1 ${event} /a`, `s2 ${event} /a`]);
      expect(m.has("child", "/a", "s3")).to.equal(true);
      expect(m.has("data", "/b", "s4")).to.equal(true);
    }
  });

  it("NodeChildrenChanged fires only child watches", () => {
    const m = new WatchManager<string>();
    m.add("data", "/a", "s1");
    m.add("child", "/a", "s2");
    expect(fire(m, "/a", "NodeChildrenChanged")).to.deep.equal(["s2 NodeChildrenChanged /a"]);
    expect(m.has("data", "/a", "s1")).to.equal(true);
  });

  it("NodeDeleted fires data, exist and child watches, once per watcher: data watchers, then child-only ones", () => {
    const m = new WatchManager<string>();
    m.add("child", "/a", "both");
    m.add("child", "/a", "childOnly");
    m.add("data", "/a", "dataOnly");
    m.add("data", "/a", "both");
    m.add("exist", "/a", "both");
    expect(fire(m, "/a", "NodeDeleted")).to.deep.equal([
      "dataOnly NodeDeleted /a",
      "both NodeDeleted /a",
      "childOnly NodeDeleted /a",
    ]);
    expect(m.size()).to.equal(0);
  });

  it("orders watchers by their first registration, and a repeated registration changes nothing", () => {
    const m = new WatchManager<string>();
    m.add("data", "/a", "s2");
    m.add("exist", "/a", "s1");
    m.add("data", "/a", "s3");
    m.add("data", "/a", "s2");
    m.add("data", "/a", "s1"); // s1 keeps its exist registration's place
    expect(m.size()).to.equal(4);
    expect(fire(m, "/a", "NodeCreated")).to.deep.equal(["s2 NodeCreated /a", "s1 NodeCreated /a", "s3 NodeCreated /a"]);
  });

  it("a list of triggers fires each watch at most once (two children created in one multi)", () => {
    const m = new WatchManager<string>();
    m.add("child", "/p", "s1");
    m.add("exist", "/p/x", "s1");
    const fired = m.trigger([
      { path: "/p/x", event: "NodeCreated" },
      { path: "/p", event: "NodeChildrenChanged" },
      { path: "/p/y", event: "NodeCreated" },
      { path: "/p", event: "NodeChildrenChanged" },
    ]);
    expect(fired).to.deep.equal([
      { watcher: "s1", event: "NodeCreated", path: "/p/x" },
      { watcher: "s1", event: "NodeChildrenChanged", path: "/p" },
    ]);
  });

  it("removeWatcher drops all of a watcher's watches and leaves the others", () => {
    const m = new WatchManager<string>();
    m.add("data", "/a", "s1");
    m.add("child", "/a", "s1");
    m.add("exist", "/b", "s1");
    m.add("data", "/a", "s2");
    m.removeWatcher("s1");
    m.removeWatcher("nobody");
    expect(m.watchesOf("s1")).to.deep.equal({ data: [], exist: [], child: [] });
    expect(m.size()).to.equal(1);
    expect(fire(m, "/a", "NodeDeleted")).to.deep.equal(["s2 NodeDeleted /a"]);
    expect(fire(m, "/b", "NodeCreated")).to.deep.equal([]);
  });

  it("watchesOf lists a watcher's paths by kind, sorted, and follows firing", () => {
    const m = new WatchManager<number>();
    m.add("data", "/z", 1);
    m.add("data", "/a", 1);
    m.add("exist", "/m", 1);
    m.add("child", "/c", 1);
    m.add("child", "/b", 1);
    m.add("data", "/q", 2);
    expect(m.watchesOf(1)).to.deep.equal({ data: ["/a", "/z"], exist: ["/m"], child: ["/b", "/c"] });
    m.trigger([{ path: "/z", event: "NodeDeleted" }, { path: "/b", event: "NodeChildrenChanged" }]);
    expect(m.watchesOf(1)).to.deep.equal({ data: ["/a"], exist: ["/m"], child: ["/c"] });
    expect(m.watchesOf(2)).to.deep.equal({ data: ["/q"], exist: [], child: [] });
  });

  it("behaves like a naive reference model (property)", () => {
    type Step =
      | { t: "add"; kind: WatchKind; path: string; w: string }
      | { t: "fire"; triggers: WatchTrigger[] }
      | { t: "remove"; w: string };
    const path = fc.constantFrom("/a", "/b", "/a/b");
    const watcher = fc.constantFrom("s1", "s2", "s3");
    const event = fc.constantFrom<ZkWatchEventType>(
      "NodeCreated",
      "NodeDeleted",
      "NodeDataChanged",
      "NodeChildrenChanged",
    );
    const kind = fc.constantFrom<WatchKind>("data", "exist", "child");
    const triggers = fc.array(fc.record({ path, event }), { minLength: 1, maxLength: 3 });
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ t: fc.constant("add" as const), kind, path, w: watcher }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant("fire" as const), triggers }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant("remove" as const), w: watcher }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const m = new WatchManager<string>();
        // reference: a list of registrations in order
        let ref: { kind: WatchKind; path: string; w: string }[] = [];
        const kindsFor = (e: ZkWatchEventType): WatchKind[][] =>
          e === "NodeChildrenChanged"
            ? [["child"]]
            : e === "NodeDeleted"
              ? [["data", "exist"], ["child"]]
              : [["data", "exist"]];
        for (const s of steps) {
          if (s.t === "add") {
            m.add(s.kind, s.path, s.w);
            const known = ref.some((r) => r.kind === s.kind && r.path === s.path && r.w === s.w);
            if (!known) ref.push({ kind: s.kind, path: s.path, w: s.w });
          } else if (s.t === "remove") {
            m.removeWatcher(s.w);
            ref = ref.filter((r) => r.w !== s.w);
          } else {
            const expected: FiredWatch<string>[] = [];
            for (const { path: p, event: e } of s.triggers) {
              const notified = new Set<string>();
              for (const group of kindsFor(e)) {
                const hit = ref.filter((r) => r.path === p && group.includes(r.kind));
                ref = ref.filter((r) => !hit.includes(r));
                for (const r of hit) {
                  if (!notified.has(r.w)) expected.push({ watcher: r.w, event: e, path: p });
                  notified.add(r.w);
                }
              }
            }
            expect(m.trigger(s.triggers)).to.deep.equal(expected);
          }
          expect(m.size()).to.equal(ref.length);
          for (const w of ["s1", "s2", "s3"]) {
            const mine = (k: WatchKind) =>
              [...new Set(ref.filter((r) => r.w === w && r.kind === k).map((r) => r.path))].sort();
            expect(m.watchesOf(w)).to.deep.equal({ data: mine("data"), exist: mine("exist"), child: mine("child") });
          }
        }
      }),
      { numRuns: 300, seed: 31337 },
    );
  });
});
