/**
 * Typed trace events: what happened and, for every protocol decision, why. The teaching
 * renderer, the JSON-lines writer, the determinism hash and the checkers all read this one
 * union with exhaustive switches. Events carry no time: the world stamps each one with atUs.
 * Reasons are sentences written for a learner.
 */
export type NodeName = string;

export type ReplState =
  | 'none' | 'connect' | 'connecting' | 'receive_ping_reply' | 'send_handshake' | 'receive_auth_reply'
  | 'receive_port_reply' | 'receive_ip_reply' | 'receive_capa_reply' | 'send_psync'
  | 'receive_psync_reply' | 'transfer' | 'connected';

/** Sentinel events by their Redis names (sentinelEvent() in sentinel.c); the channel a client can SUBSCRIBE to. */
export type SentinelEventName =
  | '+monitor' | '-monitor' | '+set' | '+reset-master' | '+slave' | '+sentinel' | '+sentinel-address-switch'
  | '+sentinel-invalid-addr' | '+reboot' | '+role-change' | '-role-change' | '+sdown' | '-sdown' | '+odown' | '-odown'
  | '+new-epoch' | '+try-failover' | '+vote-for-leader' | '+elected-leader' | '-failover-abort-not-elected'
  | '+failover-state-select-slave' | '+selected-slave' | '-failover-abort-no-good-slave'
  | '+failover-state-send-slaveof-noone' | '+failover-state-wait-promotion' | '-failover-abort-slave-timeout'
  | '+promoted-slave' | '+failover-state-reconf-slaves' | '+slave-reconf-sent' | '+slave-reconf-sent-be'
  | '-slave-reconf-sent-timeout' | '+slave-reconf-inprog' | '+slave-reconf-done' | '+failover-end'
  | '+failover-end-for-timeout' | '+switch-master' | '+config-update-from' | '+convert-to-slave' | '+fix-slave-config'
  | '+tilt' | '-tilt' | '-cmd-link-reconnection' | '-pubsub-link-reconnection' | '+simulate-failure'
  | 'voted-for' | 'next-failover-delay';

export type TraceEvent =
  // Connections, as a node sees them.
  | { kind: 'conn-open'; node: NodeName; peer: NodeName; conn: number; dir: 'in' | 'out' }
  | { kind: 'conn-closed'; node: NodeName; peer: NodeName; conn: number; why: string }
  | { kind: 'connect-failed'; node: NodeName; peer: NodeName; why: string }
  // The replica's side of the handshake.
  | { kind: 'repl-state'; node: NodeName; from: ReplState; to: ReplState }
  | { kind: 'handshake-send'; node: NodeName; peer: NodeName; command: string }
  | { kind: 'handshake-reply'; node: NodeName; peer: NodeName; reply: string }
  | { kind: 'psync-sent'; node: NodeName; peer: NodeName; replid: string; offset: number }
  | { kind: 'fullresync-received'; node: NodeName; peer: NodeName; replid: string; offset: number }
  | { kind: 'continue-received'; node: NodeName; peer: NodeName; replid: string | null; why: string }
  | { kind: 'transfer-start'; node: NodeName; peer: NodeName; format: 'length' | 'eof'; sizeBytes: number }
  | { kind: 'rdb-loaded'; node: NodeName; keys: number; sizeBytes: number; replid: string; offset: number }
  // The master's side.
  | { kind: 'psync-received'; node: NodeName; peer: NodeName; replid: string; offset: string }
  | { kind: 'psync-decision'; node: NodeName; peer: NodeName; accepted: boolean; reason: string; sendBytes: number }
  | { kind: 'fullresync-sent'; node: NodeName; peer: NodeName; replid: string; offset: number }
  | { kind: 'bgsave-start'; node: NodeName; target: 'disk' | 'sockets'; sizeBytes: number; replicas: NodeName[]; offset: number }
  | { kind: 'bgsave-done'; node: NodeName; ok: boolean }
  | { kind: 'rdb-sent'; node: NodeName; peer: NodeName; format: 'length' | 'eof'; sizeBytes: number }
  | { kind: 'replica-online'; node: NodeName; peer: NodeName; why: string }
  | { kind: 'replica-dropped'; node: NodeName; peer: NodeName; why: string }
  // History and roles.
  | { kind: 'replid-change'; node: NodeName; replid: string; replid2: string; secondOffset: number; why: string }
  | { kind: 'backlog'; node: NodeName; action: 'created' | 'freed' | 'resized'; offset: number; why: string }
  | { kind: 'role'; node: NodeName; role: 'master' | 'replica'; master: string | null }
  | { kind: 'timeout'; node: NodeName; peer: NodeName; what: string }
  | { kind: 'note'; node: NodeName; text: string }
  // Sentinels: `event` is Redis's name, `payload` what sentinel.c logs after it, `reason` why, for a learner.
  | { kind: 'sentinel'; node: NodeName; event: SentinelEventName; payload: string; reason: string; epoch: number }
  // The replication stream, only when asked for (`--trace-level stream`, the world's `traceStream`):
  // `first` and `last` are the replication offsets of the first and last byte a command occupies.
  // `args` are the command's arguments, each cut at STREAM_ARG_CHARS_MAX characters for display.
  | { kind: 'stream-fed'; node: NodeName; first: number; last: number; args: string[]; to: NodeName[] }
  | { kind: 'stream-proxied'; node: NodeName; peer: NodeName; first: number; last: number; to: NodeName[] }
  | { kind: 'stream-applied'; node: NodeName; peer: NodeName; first: number; last: number; args: string[]; commands: number }
  | { kind: 'ack-sent'; node: NodeName; peer: NodeName; offset: number; why: AckWhy }
  | { kind: 'ack-received'; node: NodeName; peer: NodeName; offset: number }
  // The scenario and the world.
  | { kind: 'command'; node: NodeName; client: string; argv: string[] }
  | { kind: 'reply'; node: NodeName; client: string; reply: string }
  | { kind: 'load'; node: NodeName; sent: number; ok: number; errors: number }
  | { kind: 'fault'; op: FaultOp; groups: NodeName[][]; what: string }
  | { kind: 'process'; node: NodeName; what: 'crash' | 'poweroff' | 'restart' | 'pause' | 'resume' | 'sleep' | 'exit' }
  | { kind: 'check'; line: number; ok: boolean; text: string; detail: string };

/**
 * Why a replica sent REPLCONF ACK: replicationCron's once-a-second replicationSendAck(), the
 * answer to the master's REPLCONF GETACK, or the ACK right after loading a diskless RDB (which
 * tells the master to start the stream).
 */
export type AckWhy = 'cron' | 'getack' | 'rdb-loaded';

/** The kinds emitted only with `traceStream` on: the default trace never holds them. */
export const STREAM_KINDS: ReadonlySet<string> = new Set(['stream-fed', 'stream-proxied', 'stream-applied', 'ack-sent', 'ack-received']);

/** A stream event shows each argument up to this many characters (a `load` value can be megabytes). */
export const STREAM_ARG_CHARS_MAX = 48;

/**
 * A `command` event (`--trace-level commands`) shows each argument up to this many characters:
 * a sentinel's hello (about 130) whole, a client's megabyte value cut.
 */
export const COMMAND_ARG_CHARS_MAX = 256;

/**
 * What a network fault did. `groups` are the sides of a partition, `[[from], [to]]` for a
 * one-way one, the two ends of a kill-link or a link change (empty for `link *` and `heal`).
 */
export type FaultOp = 'partition' | 'partition-one-way' | 'heal-all' | 'heal' | 'heal-one-way' | 'kill-link' | 'link';

export type TraceKind = TraceEvent['kind'];

/** An event as recorded: stamped with the virtual time it happened at. */
export interface Stamped {
  readonly atUs: number;
  readonly event: TraceEvent;
}
