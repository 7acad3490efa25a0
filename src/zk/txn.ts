/**
 * ZooKeeper transactions as data: what the leader proposes, followers log (fsynced) and every server
 * applies to its data tree in zxid order (ZooKeeper's TxnHeader + CreateTxn / DeleteTxn / SetDataTxn /
 * CheckVersionTxn / MultiTxn / ErrorTxn / CreateSessionTxn / closeSession).
 */

import type { SessionId, ZkCode, ZkWriteOp, Zxid } from "../protocol/zk.ts";

export interface ZkTxnHeader {
  zxid: Zxid;
  /** Leader's local clock in ms when the txn was prepared (Stat ctime/mtime). */
  time: number;
  sessionId: SessionId;
  /** The client's xid for this request (0 for server-generated txns such as session expiry). */
  cxid: number;
}

export type ZkTxn =
  | { type: "createSession"; timeoutMs: number }
  /** Ends the session and deletes its ephemerals (expiry or an explicit close). */
  | { type: "closeSession" }
  /** parentCVersion: the parent's cversion after this create (the sequential suffix was the value before). */
  | { type: "create"; path: string; data: string; ephemeralOwner: SessionId; parentCVersion: number }
  | { type: "delete"; path: string }
  /** version: the node's new version. */
  | { type: "setData"; path: string; data: string; version: number }
  | { type: "check"; path: string; version: number }
  /** All or nothing: a failed multi carries "error" sub-txns (see ZkOpResult). */
  | { type: "multi"; txns: ZkTxn[] }
  /**
   * A request that failed in preparation: still ordered and answered through the commit path. Inside a multi,
   * `op` names the sub-operation that failed or was skipped (ZooKeeper's ErrorTxn carries no type; kept so
   * every server can fill ZkOpResult.op).
   */
  | { type: "error"; code: ZkCode; op?: ZkWriteOp["op"] };

export interface ZkTxnEntry {
  header: ZkTxnHeader;
  txn: ZkTxn;
}
