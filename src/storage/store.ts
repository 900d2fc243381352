/**
 * The store contract: what the library core needs from storage, in bytes. The library encodes keys and values,
 * validates, filters expired rows, hands out versionstamps and serializes commits; a store keeps rows in key-byte
 * order and runs a synchronous write function atomically. The built-in SQLite storage implements it directly
 * (every call synchronous); a driver from `defineDriver` is adapted to it by driver-store.ts (calls may be async).
 */

/** A value, or a promise of it: the SQLite store answers synchronously, drivers may not. */
export type MaybePromise<T> = T | Promise<T>

/** One stored entry, as bytes. */
export type KvRow = {
  /** The encoded key (see key/codec.ts). */
  key: Buffer
  /** The value bytes (see value.ts). */
  value: Buffer
  /** How `value` is encoded (see value.ts). */
  encoding: number
  /** The commit counter of the write that stored the row. */
  version: number
  /** Epoch milliseconds after which the row is dead; null for never. */
  expiresAt: number | null
}

/** Rows with `start <= key < end`, ascending (or descending when `reverse`), at most `limit`. */
export interface RangeQuery {
  start: Buffer
  end: Buffer
  limit: number
  reverse: boolean
}

/** The view of the store inside a write transaction. Every call is synchronous: nothing else runs meanwhile. */
export interface WriteTransaction {
  read(key: Buffer): KvRow | undefined
  write(row: KvRow): void
  remove(key: Buffer): void
  /** Removes the row if it is expired at `now` (and so cannot have been rewritten since it was seen). */
  removeExpired(key: Buffer, now: number): void
  /** The next commit counter; the store persists the last one handed out when the transaction commits. */
  nextVersion(): number
  /**
   * Optional (a store with a `queue` has it): adds a queue message, written only if the transaction commits. The
   * core calls it after `nextVersion`, for the `enqueue`s of `atomic()` and `db.enqueue`.
   */
  enqueue?: ((message: QueueMessage) => void) | undefined
}

/** A row stamped with a commit version. */
export const rowAt = (row: Omit<KvRow, 'version'>, version: number): KvRow => ({
  key: row.key,
  value: row.value,
  encoding: row.encoding,
  version,
  expiresAt: row.expiresAt,
})

/** The write transaction of a plain set (`Storage.writeOne` the usual way): `row` under the next counter. */
export const writePlainSet =
  (row: Omit<KvRow, 'version'>) =>
  (tx: WriteTransaction): number => {
    const version = tx.nextVersion()
    tx.write(rowAt(row, version))
    return version
  }

/** A queue message as stored (see queue/message.ts for how its parts are made and limited). */
export interface QueueMessage {
  /** The value bytes, encoded as an entry's (see value.ts). */
  value: Buffer
  /** How `value` is encoded (see value.ts). */
  encoding: number
  /** Epoch ms before which the message is never handed out. */
  readyAt: number
  /** Encoded keys the value is written to once every delivery has failed. */
  keysIfUndelivered: Buffer[]
  /** The delays (ms) of the retries still allowed, in order; empty: the next failure is the last. */
  backoffSchedule: number[]
}

/** A message a consumer holds under a lease. */
export interface ClaimedMessage extends QueueMessage {
  /** The message's id in the store (opaque). */
  id: string
  /** Deliveries so far, this one included. */
  attempts: number
  /**
   * Whether the message was taken from a lease that had run out (its consumer died or hung): that delivery counts
   * as failed, and the consumer retries or dead-letters it rather than handling it.
   */
  expired: boolean
}

/**
 * The queue of a store: messages in the store's own rows, shared by every process on the same database. A message
 * is idle (ready at `readyAt`) or leased under a token until a deadline; `claim` takes messages that are due,
 * idle or with a lapsed lease, so a dead consumer's messages come back. Every operation given a token acts only on
 * messages still leased under it: a consumer whose lease lapsed cannot delete or move the redelivered copy.
 */
export interface QueueStore {
  /** Leases up to `limit` messages due at `now` (idle ones ready, or leased with the deadline passed) under `token` until `until`; oldest ready time first, then enqueue order. */
  claim(now: number, limit: number, token: string, until: number): MaybePromise<ClaimedMessage[]>
  /** Moves the lease deadline of these messages (still leased under `token`) to `until`. */
  extend(ids: readonly string[], token: string, until: number): MaybePromise<void>
  /** Deletes these messages (still leased under `token`): delivered, or dead-lettered. */
  ack(ids: readonly string[], token: string): MaybePromise<void>
  /** Makes a message (still leased under `token`) idle again, ready at `readyAt`, with the rest of its backoff schedule. */
  retry(id: string, token: string, readyAt: number, backoffSchedule: readonly number[]): MaybePromise<void>
  /** The earliest time any message is due (ready, or its lease lapses); null when the queue is empty. */
  nextDue(): MaybePromise<number | null>
}

/**
 * What a store says about itself, read without writing anything (for `db.info()` and the `info` command). Counts
 * include expired rows not yet deleted; a store that cannot tell a figure gives null.
 */
export interface StoreDescription {
  /** Rows stored, expired ones included. */
  rows: number
  /** Rows expired at the `now` given and not yet deleted. */
  expired: number
  /** Bytes the store occupies on disk (a file with its WAL, or its tables), when it knows. */
  bytes: number | null
  /** The serializer name recorded in the store. */
  serializer: string
  /** The version of the stored format, for a store that records one. */
  formatVersion: number | null
  /** The last commit counter handed out (0 before the first commit). */
  version: number
}

/** A store of rows. Reads see committed data only; `transact` runs its function in one serializable transaction. */
export interface Storage {
  read(key: Buffer): MaybePromise<KvRow | undefined>
  /** Reads several keys in one snapshot. */
  readMany(keys: readonly Buffer[]): MaybePromise<(KvRow | undefined)[]>
  readRange(query: RangeQuery): MaybePromise<KvRow[]>
  /**
   * Runs `fn` in one write transaction: all of it commits, or (if it throws) none of it. `fn` is synchronous and
   * reads and writes only the keys `keys()` lists (a store that cannot read inside a synchronous function loads
   * them first).
   */
  transact<T>(keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): MaybePromise<T>
  /**
   * Optional: the commonest commit, one plain set alone in its group, with no check and nothing else to delete.
   * Writes `row` under the next commit counter in a transaction of its own, exactly as `transact` would, and returns
   * that counter. A store without it gets such commits through `transact`.
   */
  writeOne?(row: Omit<KvRow, 'version'>): MaybePromise<number>
  /**
   * Optional: calls `onChange` soon after a commit made elsewhere (another connection, process or host) becomes
   * visible, for watch() and queue listeners; it may also call it when nothing they care about changed, and the
   * caller re-reads. Returns a function that stops the calls. This instance's own commits are not reported here:
   * the library notifies those itself. A store without it sees only its own process's commits.
   */
  watchChanges?(onChange: () => void): () => void
  /** Optional: the store's queue (see QueueStore); a store without it has no `enqueue` or `listenQueue`. */
  queue?: QueueStore | undefined
  /** Deletes up to `limit` rows expired at `now`; returns how many. */
  purgeExpired(now: number, limit: number): MaybePromise<number>
  close(): MaybePromise<void>
  /** Optional: describes the store, reading only (see StoreDescription). */
  describe?(now: number): MaybePromise<StoreDescription>
  /**
   * Optional: closes the store and deletes everything it keeps (a file with its -wal and -shm files). Undefined
   * for a store that does not own its data, such as an application's own connection.
   */
  destroy?: (() => MaybePromise<void>) | undefined
}
