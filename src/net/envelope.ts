/**
 * A message on the virtual network: the payload of its delivery (or retransmission) event, and a node of its
 * link's in-flight list (not yet delivered, send order) or of a cut's held queue. Envelopes are pooled by the
 * network, so steady-state sends allocate nothing; the model has no TCP segments, so one envelope is one segment.
 */

import type { Message } from "../sim/host.ts";
import type { TimerId } from "../sim/kernel.ts";

export class Envelope {
  src = 0;
  dst = 0;
  message: Message | null = null;
  mid = 0;
  incarnation = 0;
  sizeBytes = 0;
  timer: TimerId = -1;
  /** Consecutive lost transmissions of this message (its RTO back-off); 0 once one gets through. */
  losses = 0;
  /** When its first transmission was lost: its retransmissions give up tcpRetransmitUs later. */
  lostAt = 0;
  /** Arrived, and waiting at the receiver behind an earlier message being retransmitted. */
  arrived = false;
  prev: Envelope | null = null;
  next: Envelope | null = null;
}
