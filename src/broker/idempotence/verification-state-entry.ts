/**
 * KIP-890 part 1's verification state of one producer on one partition (VerificationStateEntry and the
 * verification guard, Kafka 3.6; 3.7 names the guard class VerificationGuard): the leader creates it before the
 * producer's first transactional append here, keeps it while it asks the transaction coordinator whether the
 * partition is in the transaction, and appends only if the request still holds the same guard. Any transactional
 * batch (data or marker) of the producer appended here clears it (UnifiedLog.updateProducers), so a verification
 * answered before an ABORT marker cannot open a transaction after it. The lowest sequence seen while verifying
 * blocks higher sequences (maybeUpdateLowestSequenceAndEpoch). Simplification: entries never expire
 * (producer.id.expiration.ms, 1 day, is not modelled).
 */

/** The guard object of one verification; compared by identity, never printed (so it holds no counter). */
export class VerificationGuard {
  readonly kind = "VerificationGuard";
}

export class VerificationStateEntry {
  readonly verificationGuard = new VerificationGuard();

  constructor(
    readonly timestampMs: number,
    public lowestSequence: number,
    public epoch: number,
  ) {}

  /** A lower sequence of the same epoch, or any sequence of a higher epoch, becomes the lowest sequence. */
  maybeUpdateLowestSequenceAndEpoch(incomingSequence: number, incomingEpoch: number): void {
    if (incomingEpoch === this.epoch && incomingSequence < this.lowestSequence) this.lowestSequence = incomingSequence;
    if (incomingEpoch > this.epoch) {
      this.epoch = incomingEpoch;
      this.lowestSequence = incomingSequence;
    }
  }
}
