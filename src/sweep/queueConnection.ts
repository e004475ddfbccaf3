// The --queue address: redis://[user:pass@]host:port[/db], or rediss:// for TLS, turned into ioredis
// options that BullMQ and our own key reads share. ioredis reconnects on its own with the backoff
// below; every command waits for the connection to come back (maxRetriesPerRequest: null, which
// BullMQ's workers require), so a Redis restart delays a sweep but loses nothing.
import { Redis, type RedisOptions } from "ioredis";
import { InputError } from "../errors.js";

export interface QueueAddress {
  options: RedisOptions;
  /** host:port/db, without the password: safe to print. */
  display: string;
}

/** Backoff between reconnection attempts: 0.2 s doubling to at most 5 s, forever. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(200 * 2 ** Math.min(attempt - 1, 5), 5000);
}

export function parseQueueUrl(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`--queue ${JSON.stringify(text)} is not a URL; expected redis://[user:pass@]host:port[/db] or rediss://… for TLS`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new InputError(`--queue ${JSON.stringify(url.protocol)} is not supported; expected redis://[user:pass@]host:port[/db] or rediss://… for TLS`);
  }
  const path = url.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\d*$/.test(path)) {
    throw new InputError(`--queue: the database ${JSON.stringify(path)} is not a number from 0 to 15`);
  }
  if (url.search || url.hash) throw new InputError(`--queue: no query or fragment expected in ${url.protocol}//${url.host}`);
  const port = url.port === "" ? 6379 : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new InputError(`--queue ${JSON.stringify(text)} names no host`);
  const options: RedisOptions = {
    host,
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === "rediss:" ? { tls: { servername: host } } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelayMs,
  };
  return { options, display: `${url.protocol}//${url.host}/${db}` };
}

/**
 * A connection that says once, clearly, when Redis goes away and when it is back, instead of
 * ioredis's unhandled error events.
 */
export function connect(address: QueueAddress, note: (message: string) => void, role: string): Redis {
  const redis = new Redis(address.options);
  watchConnection(redis, address, note, role);
  return redis;
}

export function watchConnection(redis: Redis, address: QueueAddress, note: (message: string) => void, role: string): void {
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    note(`Redis at ${address.display} is unreachable${role ? ` from the ${role}` : ""} (${error.message}); retrying with backoff (up to ${reconnectDelayMs(99) / 1000} s apart)`);
  });
  redis.on("ready", () => {
    if (down) note(`Redis at ${address.display} is back`);
    down = false;
  });
}
