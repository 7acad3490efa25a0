import { expect } from "chai";
import { describeProducerConfig, resolveProducerConfig, type ProducerConfigInput } from "../../../src/clients/producer/config.ts";

function resolve(input: ProducerConfigInput) {
  const result = resolveProducerConfig(["broker-1"], input);
  if (!result.ok) throw new Error(result.error);
  return result;
}

describe("producer config (Kafka 3.x rules)", () => {
  it("has Kafka's defaults: acks=all, idempotence on, linger.ms 0, five in flight", () => {
    const { config } = resolve({});
    expect(config).to.include({
      acks: -1,
      "batch.size": 16_384,
      "linger.ms": 0,
      "max.in.flight.requests.per.connection": 5,
      retries: 2_147_483_647,
      "retry.backoff.ms": 100,
      "request.timeout.ms": 30_000,
      "delivery.timeout.ms": 120_000,
      "enable.idempotence": true,
      "metadata.max.age.ms": 300_000,
    });
    expect(describeProducerConfig(config)).to.include({ acks: "all", "enable.idempotence": true, "bootstrap.servers": "broker-1" });
  });

  it("disables idempotence silently when it was not set and acks≠all, retries=0 or in-flight > 5", () => {
    for (const input of [{ acks: "1" }, { acks: 0 }, { retries: 0 }, { "max.in.flight.requests.per.connection": 6 }] as ProducerConfigInput[]) {
      const result = resolve(input);
      expect(result.config["enable.idempotence"], JSON.stringify(input)).to.equal(false);
      expect(result.notes.join(" ")).to.match(/Idempotence will be disabled/);
    }
  });

  it("rejects the same conflicts when enable.idempotence=true was set explicitly", () => {
    expect(resolveProducerConfig(["broker-1"], { acks: "1", "enable.idempotence": true })).to.deep.include({ ok: false });
    expect(resolveProducerConfig(["broker-1"], { retries: 0, "enable.idempotence": true })).to.deep.include({ ok: false });
    expect(resolveProducerConfig(["broker-1"], { acks: "1", "enable.idempotence": false })).to.deep.include({ ok: true });
  });

  it("requires delivery.timeout.ms ≥ linger.ms + request.timeout.ms when set, raises it when not", () => {
    expect(resolveProducerConfig(["broker-1"], { "delivery.timeout.ms": 1000, "request.timeout.ms": 1000, "linger.ms": 5 })).to.deep.include({ ok: false });
    expect(resolve({ "request.timeout.ms": 200_000 }).config["delivery.timeout.ms"]).to.equal(200_000);
    expect(resolve({ "delivery.timeout.ms": 1005, "request.timeout.ms": 1000, "linger.ms": 5 }).config["delivery.timeout.ms"]).to.equal(1005);
  });

  it("rejects a bad acks value and an empty bootstrap list", () => {
    expect(resolveProducerConfig(["broker-1"], { acks: "2" as never })).to.deep.include({ ok: false });
    expect(resolveProducerConfig([], {})).to.deep.include({ ok: false });
  });
});
