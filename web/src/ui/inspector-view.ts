/**
 * The state inspector at the playback position, rebuilt from the trace (web/src/state/): hosts and roles,
 * the controller and its epoch, each partition's leader, leader epoch and ISR, and each replica's log as a
 * strip of offsets — committed below the HW, uncommitted above it, records just truncated struck through in
 * red as they disappear — with LEO and HW markers; ZooKeeper's tree and sessions; the clients' open and recent
 * operations; consumer groups (coordinator, state, generation, members and what each owns, committed offsets);
 * transactions (the coordinator's state per transactional.id; control records, aborted records and the LSO in
 * the log strips).
 */

import { shortMemberId } from "../../../src/cli/timeline-groups.ts";
import type { ClusterView, GroupMemberView, GroupView, LogRecord, OpView, PartitionView, ReplicaView, TxnView } from "../state/index.ts";

/** Offsets shown per replica strip: the last STRIP of the partition's highest log end offset. */
const STRIP = 40;

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A stable colour per leader epoch, so records of one epoch read as one block. */
function epochColour(epoch: number): string {
  const hues = [210, 30, 130, 280, 350, 60, 180, 0];
  return `hsl(${hues[((epoch % hues.length) + hues.length) % hues.length]} 55% 45%)`;
}

export function renderInspector(container: HTMLElement, view: ClusterView, focusPartition: string | null): void {
  const parts: string[] = [];
  parts.push(`<section class="insp-block"><h3>Cluster at ${(view.t / 1e6).toFixed(6)} s <span class="muted">(event #${view.index})</span></h3>`);
  parts.push('<div class="hosts">');
  for (const host of view.hosts) {
    const roles: string[] = [];
    if (host.name === view.zkLeader) roles.push("ZK leader");
    if (host.name === view.controller) roles.push(`controller (epoch ${view.controllerEpoch})`);
    parts.push(`<span class="host host-${host.state}" data-host="${esc(host.name)}" title="incarnation ${host.incarnation}">${esc(host.name)} <small>${esc(host.state)}${roles.length ? " · " + esc(roles.join(", ")) : ""}</small></span>`);
  }
  parts.push("</div>");
  parts.push(`<p>Controller: <b data-field="controller">${esc(view.controller ?? "none")}</b>, controllerEpoch <b data-field="controllerEpoch">${view.controllerEpoch}</b> · ZooKeeper leader: <b>${esc(view.zkLeader ?? "none")}</b></p></section>`);

  if (view.transactions.length > 0) parts.push(`<section class="insp-block transactions"><h3>Transactions</h3>${view.transactions.map(renderTxn).join("")}</section>`);
  if (view.groups.length > 0) parts.push(`<section class="insp-block groups"><h3>Consumer groups</h3>${view.groups.map(renderGroup).join("")}</section>`);

  const partitions = focusPartition === null ? view.partitions : view.partitions.filter((p) => p.topicPartition === focusPartition);
  parts.push(`<section class="insp-block"><h3>Partitions</h3>`);
  if (view.partitions.length > 1) {
    parts.push(`<select class="partition-filter"><option value="">all ${view.partitions.length} partitions</option>${view.partitions
      .map((p) => `<option value="${esc(p.topicPartition)}"${p.topicPartition === focusPartition ? " selected" : ""}>${esc(p.topicPartition)}</option>`)
      .join("")}</select>`);
  }
  for (const partition of partitions.slice(0, 24)) parts.push(renderPartition(partition));
  if (partitions.length > 24) parts.push(`<p class="muted">${partitions.length - 24} more partitions: pick one above.</p>`);
  parts.push("</section>");

  parts.push(`<section class="insp-block"><h3>Client operations</h3>${renderOps(view.ops.open, "open (invoked, no answer yet)")}${renderOps(view.ops.recent.slice(-12).reverse(), "recently completed")}</section>`);

  parts.push(`<section class="insp-block"><h3>ZooKeeper</h3>${renderZk(view)}</section>`);
  container.innerHTML = parts.join("");
}

function renderGroup(g: GroupView): string {
  const coordinator = g.coordinator === null ? "none" : g.coordinatorStatus === "active" ? g.coordinator : `${g.coordinator} (${g.coordinatorStatus})`;
  const head = `<div class="group-head"><b>${esc(g.group)}</b> <span class="group-state gs-${esc(g.state)}" data-field="group-state">${esc(g.state)}</span>
    generation <b data-field="generation">${g.generation}</b> · protocol <b data-field="protocol">${esc(g.protocol ?? "none")}</b>
    · leader <b data-field="group-leader" title="${esc(g.leader ?? "")}">${esc(g.leader !== null ? shortMemberId(g.leader) : "none")}</b><br>coordinator <b data-field="coordinator">${esc(coordinator)}</b>${g.partition >= 0 ? ` · __consumer_offsets-${g.partition}` : ""}
    · rebalances <b data-field="rebalances">${g.rebalances}</b></div>`;
  const rows = g.members.map(renderMember).join("");
  const members =
    g.members.length === 0
      ? '<p class="muted">no members</p>'
      : `<table class="group-members"><tr><th>member</th><th>instance</th><th>client</th><th>owns</th><th>lag</th></tr>${rows}</table>`;
  const committed =
    g.committed.length === 0
      ? '<p class="muted">committed offsets: none</p>'
      : `<div class="committed">committed: ${g.committed
          .map((c) => `<span class="offset" data-tp="${esc(c.topicPartition)}" data-offset="${c.offset}" title="by ${esc(c.member ?? "a coordinator's load")} generation ${c.generation} (event #${c.seq})">${esc(c.topicPartition)}@${c.offset}</span>`)
          .join(" ")}</div>`;
  return `<div class="group" data-group="${esc(g.group)}" data-state="${esc(g.state)}" data-generation="${g.generation}">${head}${members}${committed}</div>`;
}

function renderTxn(x: TxnView): string {
  const coordinator = x.coordinator === null ? "none" : x.coordinatorStatus === "active" ? x.coordinator : `${x.coordinator} (${x.coordinatorStatus})`;
  const producer = x.client === null ? "" : `<br>producer <b>${esc(x.client)}</b> <span class="producer-txn-state" data-field="producer-txn-state">${esc(x.producerState ?? "?")}</span>${x.producerError !== null ? ` <span class="txn-error">${esc(x.producerError)}</span>` : ""}`;
  return `<div class="txn" data-txn="${esc(x.transactionalId)}" data-state="${esc(x.state)}" data-producer-id="${x.producerId}" data-producer-epoch="${x.producerEpoch}" data-coordinator-epoch="${x.coordinatorEpoch}">
    <b>${esc(x.transactionalId)}</b> <span class="txn-state ts-${esc(x.state)}" data-field="txn-state" title="${esc(x.previousState !== null ? `from ${x.previousState}` : "")}">${esc(x.state)}</span>
    producerId <b data-field="producer-id">${x.producerId}</b> epoch <b data-field="producer-epoch">${x.producerEpoch}</b>
    <br>partitions <b data-field="txn-partitions">${esc(x.partitions.join(", ") || "—")}</b>
    <br>coordinator <b data-field="txn-coordinator">${esc(coordinator)}</b>${x.partition >= 0 ? ` · __transaction_state-${x.partition}` : ""} · coordinatorEpoch <b data-field="coordinator-epoch">${x.coordinatorEpoch}</b>${producer}
    <br>transactions: <span class="txn-commits" data-field="commits">✓ ${x.commits} committed</span> · <span class="txn-aborts" data-field="aborts">✗ ${x.aborts} aborted</span>${x.failed > 0 ? ` · <span class="txn-error">${x.failed} failed / unknown</span>` : ""}</div>`;
}

function renderMember(m: GroupMemberView): string {
  const lag = m.lag.length === 0 && m.lagMax === null ? "" : `${m.lag.map((l) => `${esc(l.topicPartition)}:${l.lag}`).join(" ")}${m.lagMax !== null ? ` (max ${m.lagMax})` : ""}`;
  const title = m.inGroup ? `generation of its assignment ${m.assignmentGeneration}` : "not in the coordinator's member list, yet it believes it owns these partitions";
  return `<tr class="${m.inGroup ? "" : "not-in-group"}" data-member="${esc(m.memberId)}" data-client="${esc(m.client ?? "")}" title="${esc(title)}">
    <td title="${esc(m.memberId)}">${m.leader ? "★ " : ""}${esc(shortMemberId(m.memberId) || "(no member id)")}</td><td>${esc(m.instanceId ?? "")}</td><td>${esc(m.client ?? "?")}</td>
    <td data-field="assignment">${esc(m.assignment.join(", ") || "—")}</td><td data-field="lag">${lag}</td></tr>`;
}

function renderPartition(p: PartitionView): string {
  const maxLeo = Math.max(0, ...p.replicaViews.map((r) => r.logEndOffset));
  const from = Math.max(0, maxLeo - STRIP + 4);
  const to = from + STRIP;
  const rows = p.replicaViews.map((r) => renderReplica(p, r, from, to)).join("");
  return `<div class="partition" data-partition="${esc(p.topicPartition)}">
    <div class="partition-head"><b>${esc(p.topicPartition)}</b> leader <b data-field="leader">${p.leader >= 0 ? `broker-${p.leader}` : "none"}</b>
    · leaderEpoch <b data-field="leaderEpoch">${p.leaderEpoch}</b> · ISR <b data-field="isr">[${p.isr.join(", ")}]</b>
    · replicas [${p.replicas.join(", ")}]${p.zkVersion !== undefined ? ` · zkVersion ${p.zkVersion}` : ""}</div>
    <div class="strip-scale">${renderScale(from, to)}</div>${rows}</div>`;
}

function renderScale(from: number, to: number): string {
  const cells: string[] = [];
  for (let o = from; o < to; o++) cells.push(`<span class="cell scale">${o % 5 === 0 ? o : ""}</span>`);
  return `<span class="replica-name"></span>${cells.join("")}`;
}

function renderReplica(p: PartitionView, r: ReplicaView, from: number, to: number): string {
  const records = r.window(from, to);
  const present = new Map<number, LogRecord>();
  const truncated = new Map<number, LogRecord>();
  for (const record of records) (record.truncatedSeq === undefined ? present : truncated).set(record.offset, record);
  const cells: string[] = [];
  for (let o = from; o < to; o++) {
    const record = present.get(o);
    const gone = truncated.get(o);
    const lso = r.lastStableOffset;
    const below = [o === lso ? "LSO" : "", o === r.logEndOffset ? "LEO" : ""].filter((m) => m !== "").join("·");
    const marks = `${o === r.highWatermark ? '<i class="hw" title="high watermark">HW</i>' : ""}${below !== "" ? `<i class="${o === r.logEndOffset ? "leo" : "leo lso-label"}" title="${o === lso ? "last stable offset; " : ""}${o === r.logEndOffset ? "log end offset" : ""}">${below}</i>` : ""}${o === lso ? '<i class="lso" title="last stable offset: read_committed consumers read below it"></i>' : ""}`;
    if (record !== undefined && record.control !== undefined) {
      // A transaction marker: a control record, drawn as a glyph (✓ COMMIT, ✗ ABORT) on a pale cell.
      const state = o < r.highWatermark ? "committed" : "uncommitted";
      cells.push(`<span class="cell control control-${record.control.toLowerCase()} ${state}" data-offset="${o}" data-control="${record.control}" style="border-bottom-color:${epochColour(record.epoch)}" title="offset ${o}: ${record.control} marker of producer ${record.producerId ?? "?"} (epoch ${record.epoch})"><b>${record.control === "COMMIT" ? "✓" : "✗"}</b>${marks}</span>`);
    } else if (record !== undefined) {
      const state = o < r.highWatermark ? "committed" : "uncommitted";
      const txn = record.txn !== undefined ? ` txn-${record.txn}` : "";
      const txnTitle = record.txn !== undefined ? `, transactional (producer ${record.producerId ?? "?"}, ${record.txn})` : "";
      cells.push(`<span class="cell ${state}${txn}" data-offset="${o}"${record.txn !== undefined ? ` data-txn="${record.txn}"` : ""} style="border-bottom-color:${epochColour(record.epoch)}" title="offset ${o}: ${esc(record.value)} (epoch ${record.epoch}${txnTitle})">${marks}</span>`);
    } else if (gone !== undefined) {
      cells.push(`<span class="cell truncated" data-offset="${o}" title="offset ${o}: ${esc(gone.value)} truncated (epoch ${gone.epoch})">${marks}</span>`);
    } else {
      cells.push(`<span class="cell empty" data-offset="${o}">${marks}</span>`);
    }
  }
  const isLeader = p.leader === r.brokerId;
  const inIsr = p.isr.includes(r.brokerId);
  const label = `${r.host}${isLeader ? " ◆" : ""}${inIsr ? "" : " (out of ISR)"}`;
  const lso = r.lastStableOffset === null ? "" : ` · LSO ${r.lastStableOffset}`;
  return `<div class="replica${r.up ? "" : " down"}" data-replica="${esc(r.host)}" data-hw="${r.highWatermark}" data-leo="${r.logEndOffset}" data-epoch="${r.leaderEpoch}"${r.lastStableOffset !== null ? ` data-lso="${r.lastStableOffset}"` : ""}>
    <span class="replica-name" title="${esc(r.role)} · leaderEpoch ${r.leaderEpoch} · LEO ${r.logEndOffset} · HW ${r.highWatermark}${lso} · log start ${r.logStartOffset}">${esc(label)}<br><small>LEO ${r.logEndOffset} · HW ${r.highWatermark}${lso} · e${r.leaderEpoch}</small></span>${cells.join("")}</div>`;
}

function renderOps(ops: OpView[], title: string): string {
  if (ops.length === 0) return `<p class="muted">${esc(title)}: none</p>`;
  const rows = ops
    .slice(0, 16)
    .map(
      (op) =>
        `<tr class="op-${esc(op.type)}"><td>${esc(op.process)}</td><td>${esc(op.f)}</td><td>${esc(op.type)}</td><td>${esc(op.value ?? "")}</td><td>${op.partition !== undefined && op.partition >= 0 ? `p${op.partition}` : ""}${op.offset !== undefined ? `@${op.offset}` : ""}</td><td>${esc(op.error ?? "")}</td></tr>`,
    )
    .join("");
  return `<p class="muted">${esc(title)} (${ops.length})</p><table class="ops">${rows}</table>`;
}

function renderZk(view: ClusterView): string {
  const paths = [...view.zk.znodes].sort((a, b) => a.path.localeCompare(b.path));
  const interesting = paths.filter((z) => !z.path.startsWith("/zookeeper"));
  const items = interesting
    .slice(0, 200)
    .map((z) => {
      const depth = z.path.split("/").length - 2;
      const name = z.path === "/" ? "/" : z.path.slice(z.path.lastIndexOf("/") + 1);
      return `<li style="padding-left:${depth * 12}px" title="${esc(z.path)}">${esc(name)}${z.ephemeralOwner !== undefined ? ` <small class="ephemeral">ephemeral · session ${esc(z.ephemeralOwner)}</small>` : ""}</li>`;
    })
    .join("");
  const sessions = view.zk.sessions.map((s) => `<li>${esc(s.sessionId)} <small>${esc(s.client)} · ${esc(s.state)}</small></li>`).join("");
  return `<details open><summary>znodes (${interesting.length})</summary><ul class="zk-tree">${items}</ul></details>
    <details><summary>sessions (${view.zk.sessions.length})</summary><ul class="zk-sessions">${sessions}</ul></details>`;
}
