/**
 * Reconnect backoff of the group consumer (NetworkClient's ClusterConnectionStates, reconnect.backoff.ms 50 doubling
 * to reconnect.backoff.max.ms 1000): while the crashed coordinator's broker refuses connections, a member tries it
 * again only once its backoff has passed — the coordinator is forgotten while it is unavailable
 * (checkAndGetCoordinator), and fetches to it are skipped (AbstractFetch.prepareFetchRequests).
 */

import { expect } from "chai";
import { kinds, run, scenarioFile } from "./helpers.ts";

describe("group consumer: reconnect backoff after a broker's process died", function () {
  this.timeout(120_000);

  it("the refused attempts to the crashed coordinator's broker back off 50 ms → 1 s, instead of every retry.backoff.ms", () => {
    const { events } = run(scenarioFile("group-coordinator-failover"));
    const times = kinds(events, "consumer-disconnect", (e) => e.node === "c1" && e.broker === "broker-1").filter((e) => e.t > 15_000_000 && e.t < 35_000_000).map((e) => e.t);
    expect(times.length).to.be.greaterThan(5);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Doubling until the 1 s cap (each attempt also waits for the next lookup, up to retry.backoff.ms).
    for (let i = 1; i < Math.min(gaps.length, 5); i++) expect(gaps[i], `gap ${i}: ${gaps.join(", ")}`).to.be.at.least(gaps[i - 1] - 1000);
    expect(Math.max(...gaps)).to.be.within(900_000, 1_200_000);
    expect(gaps.filter((gap) => gap > 900_000).length).to.be.greaterThan(2);
  });
});
