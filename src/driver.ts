/**
 * The storage contract: what the library needs from a store, in bytes. The library encodes keys and values,
 * validates, filters expired rows, hands out versionstamps and serializes commits; a store only keeps rows in
 * key-byte order and runs a write function atomically.
 */

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
}

/** A store of rows. Reads see committed data only; `transact` runs its function in one serializable transaction. */
export interface Storage {
  read(key: Buffer): KvRow | undefined
  /** Reads several keys in one snapshot. */
  readMany(keys: readonly Buffer[]): (KvRow | undefined)[]
  readRange(query: RangeQuery): KvRow[]
  /** Runs `fn` in one write transaction: all of it commits, or (if it throws) none of it. */
  transact<T>(fn: (tx: WriteTransaction) => T): T
  /** Deletes up to `limit` rows expired at `now`; returns how many. */
  purgeExpired(now: number, limit: number): number
  close(): void
}
