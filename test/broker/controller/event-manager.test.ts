import { expect } from "chai";
import { ControllerEventManager } from "../../../src/broker/controller/event-manager.ts";

describe("controller: event manager", () => {
  it("runs one event at a time; clearAndPut drops the queued events but not the one in progress", () => {
    const log: string[] = [];
    let finishFirst: () => void = () => {};
    const manager = new ControllerEventManager();
    manager.put({ name: "A", process: (done) => { log.push("A start"); finishFirst = () => { log.push("A end"); done(); }; } });
    manager.put({ name: "B", process: (done) => { log.push("B"); done(); } });
    expect(manager.processing).to.equal("A");
    expect(manager.queued).to.deep.equal(["B"]);
    manager.clearAndPut({ name: "Expire", process: (done) => { log.push("Expire"); done(); } });
    expect(manager.queued).to.deep.equal(["Expire"]);
    finishFirst();
    expect(log).to.deep.equal(["A start", "A end", "Expire"]);
    expect(manager.processing).to.equal(null);
  });

  it("synchronous events do not recurse", () => {
    const manager = new ControllerEventManager();
    let count = 0;
    for (let i = 0; i < 20_000; i++) manager.put({ name: "E", process: (done) => { count++; done(); } });
    expect(count).to.equal(20_000);
  });
});
