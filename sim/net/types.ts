/**
 * The network's public vocabulary: socket ids, the owner callbacks, the chunking options and
 * the figures it keeps. network.ts re-exports all of it; see its comment for the semantics.
 * This file knows nothing of Redis.
 */

/** One end of a connection, as its host numbers it (a file descriptor). Unique per network. */
export type SocketId = number;

/** Implemented by whoever owns a host (the world). Never called for a host that is down. */
export interface SocketOwner {
  /** Server side: a connection to `listenPort` from `peerHost` is established. */
  accepted(sock: SocketId, listenPort: number, peerHost: string): void;
  /** Client side: the handshake is done; the socket may send. */
  connected(sock: SocketId): void;
  /** Client side: the peer answered with RST (nothing listens), or the link was killed. */
  connectFailed(sock: SocketId, reason: 'refused'): void;
  /** Bytes in order; any split of the stream is legal. The array is the receiver's to keep. */
  data(sock: SocketId, bytes: Uint8Array): void;
  /** The peer closed (FIN, after all its data) or reset the connection. The socket is dead. */
  closed(sock: SocketId, reason: 'eof' | 'reset'): void;
}

/** How sends are cut into deliveries. One knob per field; spread a named value and override. */
export interface NetworkOptions {
  /**
   * Largest chunk delivered at once, bytes. Redis reads at most 16 KiB per read() call
   * (PROTO_IOBUF_LEN), so bigger deliveries would not change what a node sees. 1 = stress
   * every parser byte by byte.
   */
  readonly segmentBytesMax: number;
  /**
   * Chance, per segment of 2 bytes or more, that it is cut at a uniformly random point into
   * two deliveries, so receivers see partial commands. 0 disables (and draws nothing).
   */
  readonly segmentSplitProbability: number;
}

export const networkOptionsDefault: NetworkOptions = { segmentBytesMax: 16 * 1024, segmentSplitProbability: 0.1 };
/** Every send of up to 16 KiB arrives whole: the "no chunking faults" value. */
export const networkOptionsNoSplit: NetworkOptions = { segmentBytesMax: 16 * 1024, segmentSplitProbability: 0 };

export type HostStatus = 'up' | 'crashed' | 'poweroff';

export interface NetworkStats {
  /** Data bytes handed to owners. */
  bytesDelivered: number;
  /** Data chunks handed to owners (owner.data calls). */
  chunksDelivered: number;
  /** Connections accepted by a listener. */
  connectionsAccepted: number;
  /** Times a pipe stopped because its next chunk (of any kind) met a partition. */
  chunksHeld: number;
}

/** A connection end as listed by connectionsOf(). */
export interface SocketInfo {
  readonly sock: SocketId;
  readonly peerHost: string;
  readonly state: 'connecting' | 'open';
  readonly side: 'client' | 'server';
}
