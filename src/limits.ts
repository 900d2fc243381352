/** Every limit the library enforces, in one place. */

/** Largest encoded key, for every operation (SPEC §2). */
export const MAX_KEY_BYTES = 2048
/** Largest serialized value. */
export const MAX_VALUE_BYTES = 65_536
/**
 * Most levels of nesting in a value: objects, arrays, Maps, Sets and Error causes inside each other (the value
 * itself is level 1). Every serializer reads back far deeper values (measured on Node 20: at least 1,353 levels in
 * a fresh process and 858 from a stack already 5,000 frames deep), so whatever is written can be read back.
 */
export const MAX_VALUE_DEPTH = 128
/** Most keys in one `getMany`. */
export const MAX_GET_MANY_KEYS = 10
/** Most checks in one atomic commit. */
export const MAX_CHECKS = 100
/** Most mutations in one atomic commit. */
export const MAX_MUTATIONS = 1000
/** Most bytes of encoded keys (checks and mutations) in one atomic commit. */
export const MAX_TOTAL_KEY_BYTES = 81_920
/** Most bytes of keys and values in one atomic commit. */
export const MAX_TOTAL_MUTATION_BYTES = 819_200
/**
 * Most commits written in one group transaction; the rest form the next group. Keeps one burst from holding the
 * write lock (and the event loop) for long.
 */
export const MAX_GROUP_COMMITS = 1000
/** Most bytes of keys and values in one group transaction (one commit alone may reach MAX_TOTAL_MUTATION_BYTES). */
export const MAX_GROUP_BYTES = 4 * 1024 * 1024
/** Size the WAL file is truncated back to after a checkpoint lets SQLite restart it (`journal_size_limit`). */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024
/** Keys found expired by reads and kept for deletion with the next commit; more are left to the sweep. */
export const MAX_FOUND_EXPIRED_KEYS = 1000
/** Largest `batchSize` for `list`. */
export const MAX_BATCH_SIZE = 1000
/** Expired rows deleted per transaction by the sweep and `cleanup()`, so neither holds the write lock for long. */
export const EXPIRED_ROWS_PER_TRANSACTION = 1000
/** Default `batchSize` for `list`. */
export const DEFAULT_BATCH_SIZE = 500
/** Largest `expireIn`, in milliseconds (about 285,000 years; keeps `now + expireIn` an exact integer). */
export const MAX_EXPIRE_IN_MS = Number.MAX_SAFE_INTEGER / 1024
/** Largest bigint magnitude in a key part: 255 bytes (SPEC §2). */
export const MAX_BIGINT_KEY_BYTES = 255
/** Largest value of a KvU64. */
export const MAX_U64 = (1n << 64n) - 1n
/** Largest millisecond option that is a timer delay (`sweepInterval`, `busyTimeout`): Node's setTimeout limit. */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** How long a write waits for another process's (or client's) write lock by default, in ms. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000
/**
 * PostgreSQL: how long a client may leave its write transaction idle (between the two round trips of a commit)
 * before the server ends its session, so that a client that hangs mid-commit cannot hold the write lock, in ms.
 */
export const PG_IDLE_IN_TRANSACTION_MS = 2000
/** PostgreSQL: connections a database opened from a URL keeps at most, by default. */
export const DEFAULT_PG_POOL_SIZE = 10
/** PostgreSQL: how often a commit that failed with a serialization failure or a deadlock is tried again. */
export const PG_COMMIT_ATTEMPTS = 5
/** PostgreSQL: how many rows a store remembers to guess a reading commit in one round trip (see remembered-rows.ts). */
export const PG_REMEMBERED_ROWS = 1000
/** PostgreSQL: the largest value a remembered row may hold, in bytes. */
export const PG_REMEMBERED_VALUE_BYTES = 1024
/** PostgreSQL: the longest identifier (a schema name), in bytes. */
export const MAX_PG_IDENTIFIER_BYTES = 63
/** PostgreSQL: the largest `poolSize`. */
export const MAX_PG_POOL_SIZE = 1000
/**
 * Most bytes (keys and values) of rows the SQLite storage keeps in its read cache per connection (read-cache.ts);
 * past it the oldest rows are dropped.
 */
export const READ_CACHE_BYTES = 4 * 1024 * 1024
/** Largest value the read cache keeps: bigger rows are read from SQLite every time. */
export const READ_CACHE_MAX_VALUE_BYTES = 4096

/** Longest `delay` of a queue message: 30 days, as Deno KV. */
export const MAX_QUEUE_DELAY_MS = 30 * 24 * 60 * 60 * 1000
/** Most keys in a message's `keysIfUndelivered`, as Deno KV. */
export const MAX_QUEUE_UNDELIVERED_KEYS = 10
/** Most retries in a message's `backoffSchedule`, as Deno KV. */
export const MAX_QUEUE_BACKOFF_INTERVALS = 5
/** Longest retry delay in a `backoffSchedule`: one hour, as Deno KV. */
export const MAX_QUEUE_BACKOFF_MS = 60 * 60 * 1000
/** The retry delays of a message enqueued without a `backoffSchedule`, as Deno KV. */
export const DEFAULT_QUEUE_BACKOFF_MS: readonly number[] = [100, 1000, 5000, 30000, 60000]
/** How long a claimed message stays leased to its consumer without a keepalive, as Deno KV's running deadline. */
export const QUEUE_LEASE_MS = 5000
/** How often a consumer renews the leases of the messages its handler is running. */
export const QUEUE_KEEPALIVE_MS = 2000
/** Most messages one listener handles at once, as Deno KV. */
export const MAX_QUEUE_IN_FLIGHT = 100
/** Most messages one claim takes. */
export const QUEUE_CLAIM_BATCH = 20
/** How long `close()` waits for running queue handlers before returning their messages to the queue. */
export const QUEUE_CLOSE_WAIT_MS = 5000
/** The first and the longest interval of a listener's safety poll for messages enqueued by other processes. */
export const QUEUE_POLL_MIN_MS = 10
export const QUEUE_POLL_MAX_MS = 1000
/** The longest safety poll interval when the store reports other processes' commits (`watchChanges`). */
export const QUEUE_POLL_WATCHED_MAX_MS = 5000
/** Most keys one `watch` follows (Deno KV's limit). */
export const MAX_WATCH_KEYS = 10
/** SQLite watch: the first (and fastest) interval between two looks at `PRAGMA data_version`, in ms. */
export const WATCH_POLL_MIN_MS = 1
/** SQLite watch: how much the interval grows after each look that found no change. */
export const WATCH_POLL_BACKOFF = 1.5
/** SQLite watch: the longest interval between two looks, in ms (the latency of the first change after a quiet spell). */
export const WATCH_POLL_MAX_MS = 100
/** Watch: the first wait before a failed re-read (or a lost PostgreSQL LISTEN connection) is tried again, in ms. */
export const WATCH_RETRY_MIN_MS = 100
/** Watch: the longest such wait, in ms (each failure doubles it up to this). */
export const WATCH_RETRY_MAX_MS = 5000
