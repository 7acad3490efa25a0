import { expect } from "chai";
import { ASSIGNOR_NAMES, assignorFor } from "../../../../src/clients/consumer/assignors/index.ts";

describe("assignorFor", () => {
  it("resolves every short name and Kafka class name to a new instance of that assignor", () => {
    const classes = ["RangeAssignor", "RoundRobinAssignor", "StickyAssignor", "CooperativeStickyAssignor"];
    ASSIGNOR_NAMES.forEach((name, i) => {
      expect(assignorFor(name)?.name).to.equal(name);
      expect(assignorFor(`org.apache.kafka.clients.consumer.${classes[i]}`)?.name).to.equal(name);
      expect(assignorFor(name)).to.not.equal(assignorFor(name));
    });
  });

  it("returns null for an unknown name", () => {
    expect(assignorFor("fair")).to.equal(null);
    expect(assignorFor("org.apache.kafka.clients.consumer.FairAssignor")).to.equal(null);
  });
});
