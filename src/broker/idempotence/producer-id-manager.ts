/**
 * Producer id allocation in ZooKeeper mode (ZkProducerIdManager, ProducerIdBlockZNode) and the answer to an
 * idempotent producer's InitProducerId (KafkaApis.handleInitProducerIdRequest → TransactionCoordinator.
 * handleInitProducerId with transactionalId null, which any broker answers). Each broker claims blocks of 1000
 * ids from /latest_producer_id_block with a conditional setData on the znode's version (creating it when
 * absent), re-reading and retrying on BADVERSION / NODEEXISTS / connection loss, so two brokers never hand out
 * one id. Simplifications: the block is claimed asynchronously — on the first request, and again when 90 % of
 * the block is used (RPCProducerIdManager's prefetch; ZkProducerIdManager blocks its request thread instead) —
 * and a request that finds no block is answered COORDINATOR_LOAD_IN_PROGRESS (retriable), as
 * RPCProducerIdManager does. The block JSON lives here rather than in zk-data.ts.
 */

import type { InitProducerIdRequest, InitProducerIdResponse, KafkaError } from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES } from "../../protocol/kafka.ts";
import type { ZkReply } from "../../protocol/zk.ts";
import { assert } from "../../sim/assert.ts";
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID } from "../log/records.ts";
import type { BrokerServices } from "../services.ts";

/** ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** ProducerIdBlockZNode.path. */
export const PRODUCER_ID_BLOCK_PATH = "/latest_producer_id_block";
/** ProducerIdManager.PidPrefetchThreshold. */
export const PID_PREFETCH_THRESHOLD = 0.9;
/** Attempts (read + conditional write) per block claim before giving up until the next request. */
export const BLOCK_CLAIM_ATTEMPTS_MAX = 10;
/** A claim unanswered this long (a callback lost with a replaced ZooKeeper client) is abandoned for a new one. */
export const BLOCK_CLAIM_STALE_MS = 30_000;

export interface ProducerIdsBlock {
  readonly assignedBrokerId: number;
  readonly firstProducerId: number;
  /** Inclusive. */
  readonly lastProducerId: number;
}

/** ProducerIdBlockZNode.generateProducerIdBlockJson: ids as strings (Longs). */
export function encodeProducerIdBlock(block: ProducerIdsBlock): string {
  return JSON.stringify({
    version: 1,
    broker: block.assignedBrokerId,
    block_start: String(block.firstProducerId),
    block_end: String(block.lastProducerId),
  });
}

/** ProducerIdBlockZNode.parseProducerIdBlockData; null when the data is not a block. */
export function decodeProducerIdBlock(data: string): ProducerIdsBlock | null {
  try {
    const json = JSON.parse(data) as { broker?: unknown; block_start?: unknown; block_end?: unknown };
    const first = Number(json.block_start);
    const last = Number(json.block_end);
    if (typeof json.broker !== "number" || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) return null;
    return { assignedBrokerId: json.broker, firstProducerId: first, lastProducerId: last };
  } catch {
    return null;
  }
}

export class ProducerIdManager {
  private current: ProducerIdsBlock | null = null;
  private nextProducerId = -1;
  /** A block claimed ahead of need. */
  private prefetched: ProducerIdsBlock | null = null;
  /** The claim under way (its callbacks carry its number; older claims' answers are ignored), or null. */
  private claim: { readonly id: number; readonly startedMs: number } | null = null;
  private claims = 0;

  constructor(private readonly services: BrokerServices) {}

  /** The block ids are handed out from (tests). */
  get currentBlock(): ProducerIdsBlock | null {
    return this.current;
  }

  /** generateProducerId: the next id, or null while this broker has no block (a claim is then under way). */
  generateProducerId(): number | null {
    if (this.current === null || this.nextProducerId > this.current.lastProducerId) {
      if (this.prefetched === null) {
        this.maybeClaimBlock();
        return null;
      }
      this.current = this.prefetched;
      this.prefetched = null;
      this.nextProducerId = this.current.firstProducerId;
    }
    const producerId = this.nextProducerId++;
    assert(producerId <= this.current.lastProducerId, "a producer id comes from the current block");
    if (producerId >= this.current.firstProducerId + PRODUCER_ID_BLOCK_SIZE * PID_PREFETCH_THRESHOLD) this.maybeClaimBlock();
    return producerId;
  }

  private maybeClaimBlock(): void {
    if (this.prefetched !== null) return;
    const nowMs = this.services.nowMs();
    if (this.claim !== null && nowMs - this.claim.startedMs < BLOCK_CLAIM_STALE_MS) return;
    this.claim = { id: ++this.claims, startedMs: nowMs };
    this.attemptClaim(this.claim.id, 1);
  }

  /** ZkProducerIdManager.getNewProducerIdBlock: read the latest block, write the next one conditionally. */
  private attemptClaim(claim: number, attempt: number): void {
    const zk = this.services.zk();
    zk.getData(PRODUCER_ID_BLOCK_PATH, false, (reply) => {
      if (this.claim?.id !== claim) return;
      if (reply.code === "NONODE") {
        const block = this.blockAt(0);
        zk.create(PRODUCER_ID_BLOCK_PATH, encodeProducerIdBlock(block), {}, (created) => this.onWritten(claim, created, block, attempt));
        return;
      }
      if (reply.code !== "OK" || reply.stat === null || reply.stat === undefined) return this.retry(claim, attempt, reply.code);
      const latest = decodeProducerIdBlock(reply.data ?? "");
      const block = this.blockAt(latest === null ? 0 : latest.lastProducerId + 1);
      zk.setData(PRODUCER_ID_BLOCK_PATH, encodeProducerIdBlock(block), reply.stat.version, (written) => this.onWritten(claim, written, block, attempt));
    });
  }

  private blockAt(firstProducerId: number): ProducerIdsBlock {
    return { assignedBrokerId: this.services.brokerId, firstProducerId, lastProducerId: firstProducerId + PRODUCER_ID_BLOCK_SIZE - 1 };
  }

  private onWritten(claim: number, reply: ZkReply, block: ProducerIdsBlock, attempt: number): void {
    if (this.claim?.id !== claim) return;
    if (reply.code !== "OK") return this.retry(claim, attempt, reply.code);
    this.claim = null;
    this.prefetched = block;
    const context = this.services.context;
    if (context.tracing) {
      context.trace("producer-id-block", { brokerId: block.assignedBrokerId, blockStart: block.firstProducerId, blockEnd: block.lastProducerId, attempts: attempt });
    }
  }

  /**
   * BADVERSION / NODEEXISTS: another broker claimed a block first; connection loss: the write may or may not
   * have happened (a block then goes unused — ids stay unique). Bounded: after the last attempt the next
   * request starts a new claim.
   */
  private retry(claim: number, attempt: number, code: string): void {
    if (attempt < BLOCK_CLAIM_ATTEMPTS_MAX) {
      this.attemptClaim(claim, attempt + 1);
      return;
    }
    this.claim = null;
    const context = this.services.context;
    if (context.tracing) context.trace("producer-id-block-failed", { brokerId: this.services.brokerId, code, attempts: attempt });
  }
}

/** One manager per broker incarnation (a restarted broker is a new BrokerServices, with a fresh manager). */
const managers = new WeakMap<BrokerServices, ProducerIdManager>();

export function producerIdManagerOf(services: BrokerServices): ProducerIdManager {
  let manager = managers.get(services);
  if (manager === undefined) {
    manager = new ProducerIdManager(services);
    managers.set(services, manager);
  }
  return manager;
}

/**
 * KafkaApis.handleInitProducerIdRequest for any broker. transactionalId null: a new producer id at epoch 0,
 * whatever producerId/epoch the request carries — Kafka 3.x's coordinator "blindly accepts" idempotent
 * producers; the KIP-360 epoch bump of an idempotent producer happens in the client (TransactionManager.
 * bumpIdempotentProducerEpoch), which asks for a new id only once its epoch is exhausted. A producerId without
 * an epoch (or the reverse) is INVALID_REQUEST. Transactional ids need the transaction coordinator (not modelled
 * yet): NOT_COORDINATOR.
 */
export function handleInitProducerId(services: BrokerServices, from: string, request: InitProducerIdRequest): void {
  const respond = (error: KafkaError, producerId = NO_PRODUCER_ID, producerEpoch = NO_PRODUCER_EPOCH): void => {
    const response: InitProducerIdResponse = {
      type: "InitProducerIdResponse",
      correlationId: request.correlationId,
      error,
      producerId,
      producerEpoch,
      sizeBytes: REQUEST_HEADER_BYTES + 16,
    };
    services.send(from, response);
  };
  if ((request.producerId === NO_PRODUCER_ID) !== (request.producerEpoch === NO_PRODUCER_EPOCH)) return respond("INVALID_REQUEST");
  if (request.transactionalId !== null) return respond(request.transactionalId === "" ? "INVALID_REQUEST" : "NOT_COORDINATOR");
  const producerId = producerIdManagerOf(services).generateProducerId();
  if (producerId === null) return respond("COORDINATOR_LOAD_IN_PROGRESS");
  respond("NONE", producerId, 0);
}
