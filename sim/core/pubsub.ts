/**
 * Pub/sub on the data node (Redis's pubsub.c, RESP2 only): SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE,
 * PUNSUBSCRIBE, PUBLISH and PUBSUB CHANNELS|NUMSUB|NUMPAT.
 *
 * Why it is here: Sentinel discovers its peers through `__sentinel__:hello` messages published on
 * every node it monitors, and its reconfiguration transaction cuts pub/sub clients loose with
 * `CLIENT KILL TYPE pubsub`. A subscribed RESP2 client is in "pub/sub context": only the
 * (un)subscribe commands, PING, QUIT and RESET run (processCommand); messages are pushed to it as
 * `*3 message <channel> <payload>` (`*4 pmessage <pattern> <channel> <payload>`).
 *
 * PUBLISH is propagated to replicas (publishCommand → forceCommandPropagation(PROPAGATE_REPL)),
 * never to the AOF, so a replica's subscribers get the master's messages and the replication
 * offset moves with every hello a sentinel publishes, as on a real master.
 */
import type { RedisNode } from './node.ts';
import type { Client } from './client.ts';
import type { Reply } from './reply.ts';
import { bulk, int, array, err, errWrongArgs } from './reply.ts';
import { encodeReply } from './resp.ts';
import * as master from './master.ts';

/** A node's subscriptions: channel (or pattern) → subscribers in subscription order. */
export class PubSub {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
}

/** Commands a subscribed RESP2 client may still run (processCommand's pub/sub context check). */
const ALLOWED_IN_CONTEXT: ReadonlySet<string> = new Set([
  'subscribe', 'ssubscribe', 'psubscribe', 'unsubscribe', 'sunsubscribe', 'punsubscribe', 'ping', 'quit', 'reset',
]);

/** Number of channels and patterns the client is subscribed to (clientSubscriptionsCount). */
export function subscriptionCount(c: Client): number {
  return (c.pubsubChannels?.size ?? 0) + (c.pubsubPatterns?.size ?? 0);
}

/** The client is in pub/sub context (CLIENT_PUBSUB). */
export function inPubsubContext(c: Client): boolean {
  return subscriptionCount(c) > 0;
}

/** processCommand(): the error a subscribed client gets for a command outside the allowed set, or null. */
export function pubsubContextError(c: Client, name: string): Reply | null {
  if (!inPubsubContext(c) || ALLOWED_IN_CONTEXT.has(name)) return null;
  return err(`ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
}

/** PING in pub/sub context answers `*2 pong <arg or "">` (pingCommand). */
export function pubsubPingReply(arg: string | undefined): Reply {
  return array([bulk('pong'), bulk(arg ?? '')]);
}

function confirm(kind: string, name: string | null, c: Client): Reply {
  return array([bulk(kind), bulk(name), int(subscriptionCount(c))]);
}

export function subscribeCommand(n: RedisNode, c: Client, argv: string[]): void {
  c.pubsubChannels ??= new Set();
  for (let i = 1; i < argv.length; i++) {
    const ch = argv[i]!;
    if (!c.pubsubChannels.has(ch)) {
      c.pubsubChannels.add(ch);
      let subs = n.pubsub.channels.get(ch);
      if (subs === undefined) n.pubsub.channels.set(ch, (subs = new Set()));
      subs.add(c);
    }
    n.addReply(c, confirm('subscribe', ch, c));
  }
}

export function psubscribeCommand(n: RedisNode, c: Client, argv: string[]): void {
  c.pubsubPatterns ??= new Set();
  for (let i = 1; i < argv.length; i++) {
    const pat = argv[i]!;
    if (!c.pubsubPatterns.has(pat)) {
      c.pubsubPatterns.add(pat);
      let subs = n.pubsub.patterns.get(pat);
      if (subs === undefined) n.pubsub.patterns.set(pat, (subs = new Set()));
      subs.add(c);
    }
    n.addReply(c, confirm('psubscribe', pat, c));
  }
}

function dropChannel(n: RedisNode, c: Client, ch: string): void {
  c.pubsubChannels?.delete(ch);
  const subs = n.pubsub.channels.get(ch);
  if (subs === undefined) return;
  subs.delete(c);
  if (subs.size === 0) n.pubsub.channels.delete(ch);
}

function dropPattern(n: RedisNode, c: Client, pat: string): void {
  c.pubsubPatterns?.delete(pat);
  const subs = n.pubsub.patterns.get(pat);
  if (subs === undefined) return;
  subs.delete(c);
  if (subs.size === 0) n.pubsub.patterns.delete(pat);
}

/** UNSUBSCRIBE [channel...]: no argument means all; with none subscribed, one `unsubscribe nil 0`. */
export function unsubscribeCommand(n: RedisNode, c: Client, argv: string[]): void {
  const names = argv.length > 1 ? argv.slice(1) : [...(c.pubsubChannels ?? [])];
  if (names.length === 0) return n.addReply(c, confirm('unsubscribe', null, c));
  for (const ch of names) {
    dropChannel(n, c, ch);
    n.addReply(c, confirm('unsubscribe', ch, c));
  }
}

export function punsubscribeCommand(n: RedisNode, c: Client, argv: string[]): void {
  const names = argv.length > 1 ? argv.slice(1) : [...(c.pubsubPatterns ?? [])];
  if (names.length === 0) return n.addReply(c, confirm('punsubscribe', null, c));
  for (const pat of names) {
    dropPattern(n, c, pat);
    n.addReply(c, confirm('punsubscribe', pat, c));
  }
}

/** freeClient(): a closed client leaves every channel and pattern (pubsubUnsubscribeAll*). */
export function pubsubClientFreed(n: RedisNode, c: Client): void {
  if (c.pubsubChannels !== null) for (const ch of [...c.pubsubChannels]) dropChannel(n, c, ch);
  if (c.pubsubPatterns !== null) for (const pat of [...c.pubsubPatterns]) dropPattern(n, c, pat);
}

/** pubsubPublishMessage(): deliver to channel subscribers, then pattern subscribers; the count of receivers. */
export function publishMessage(n: RedisNode, channel: string, message: string): number {
  let receivers = 0;
  const subs = n.pubsub.channels.get(channel);
  if (subs !== undefined) {
    const bytes = encodeReply(array([bulk('message'), bulk(channel), bulk(message)]));
    for (const c of subs) {
      pushBytes(n, c, bytes);
      receivers++;
    }
  }
  for (const [pat, psubs] of n.pubsub.patterns) {
    if (!globMatch(pat, channel)) continue;
    const bytes = encodeReply(array([bulk('pmessage'), bulk(pat), bulk(channel), bulk(message)]));
    for (const c of psubs) {
      pushBytes(n, c, bytes);
      receivers++;
    }
  }
  return receivers;
}

function pushBytes(n: RedisNode, c: Client, bytes: Uint8Array): void {
  // A local (scenario) client has no socket to push to; it only sees its command replies.
  if (c.conn !== null) n.queueBytes(c, bytes);
}

export function publishCommand(n: RedisNode, c: Client, argv: string[]): void {
  const receivers = publishMessage(n, argv[1]!, argv[2]!);
  // forceCommandPropagation(c, PROPAGATE_REPL): to replicas, not to the AOF. A replica running
  // its master's PUBLISH proxies the master's stream instead (feedCommand does nothing there).
  if (!c.isMaster) master.feedCommand(n, c.db, argv);
  n.addReply(c, int(receivers));
}

/** PUBSUB CHANNELS [pattern] | NUMSUB [channel...] | NUMPAT. */
export function pubsubCommand(n: RedisNode, c: Client, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'channels' && argv.length <= 3) {
    const pat = argv[2];
    const names = [...n.pubsub.channels.keys()].filter((ch) => pat === undefined || globMatch(pat, ch));
    return n.addReply(c, array(names.map((ch) => bulk(ch))));
  }
  if (sub === 'numsub') {
    const items: Reply[] = [];
    for (const ch of argv.slice(2)) items.push(bulk(ch), int(n.pubsub.channels.get(ch)?.size ?? 0));
    return n.addReply(c, array(items));
  }
  if (sub === 'numpat' && argv.length === 2) {
    let total = 0;
    for (const s of n.pubsub.patterns.values()) total += s.size;
    return n.addReply(c, int(total));
  }
  if (sub === 'channels' || sub === 'numpat') return n.addReply(c, errWrongArgs(`pubsub|${sub}`));
  n.addReply(c, err(`ERR unknown subcommand '${argv[1]}'. Try PUBSUB HELP.`));
}

/**
 * stringmatchlen() from util.c: `*`, `?`, `[abc]`, `[^a-z]`, and `\x` escapes, case-sensitive.
 */
export function globMatch(pattern: string, text: string): boolean {
  return matchFrom(pattern, 0, text, 0);
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const ch = p[pi]!;
    if (ch === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchFrom(p, pi + 1, s, k)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (ch === '?') {
      pi++;
      si++;
      continue;
    }
    if (ch === '[') {
      let j = pi + 1;
      const not = p[j] === '^';
      if (not) j++;
      let matched = false;
      while (j < p.length && p[j] !== ']') {
        if (p[j] === '\\' && j + 1 < p.length) {
          if (p[j + 1] === s[si]) matched = true;
          j += 2;
        } else if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
          let lo = p.charCodeAt(j);
          let hi = p.charCodeAt(j + 2);
          if (lo > hi) [lo, hi] = [hi, lo];
          const c = s.charCodeAt(si);
          if (c >= lo && c <= hi) matched = true;
          j += 3;
        } else {
          if (p[j] === s[si]) matched = true;
          j++;
        }
      }
      if (not) matched = !matched;
      if (!matched) return false;
      pi = j + 1;
      si++;
      continue;
    }
    if (ch === '\\' && pi + 1 < p.length) {
      if (p[pi + 1] !== s[si]) return false;
      pi += 2;
      si++;
      continue;
    }
    if (ch !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}
