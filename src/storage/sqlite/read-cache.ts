/**
 * The read cache of one SQLite connection: rows recently read or written through it, so that a point read of a key
 * nothing has changed answers without a lookup in SQLite.
 *
 * Exact, not approximate. Every row is tagged with the connection's `PRAGMA data_version` as last observed before
 * the row was read or written; that counter changes whenever another connection (of this process or another one)
 * commits. A cached row is used only when the counter read now equals its tag, that is when no other connection
 * has committed since the row was current; this connection's own commits keep the cache in step as they write
 * (`put` / `drop`). Rows a transaction writes are cached once it has committed. Expiry is the caller's business:
 * the cache returns the row as stored, expiry time included, and the core filters it like any other row.
 *
 * Only for a connection Valkeyrie owns: on an application's connection, its own writes to the tables would not
 * move the counter.
 */
import { READ_CACHE_BYTES, READ_CACHE_MAX_VALUE_BYTES } from '../../limits.js'
import type { KvRow } from '../store.js'

interface Cached {
  row: KvRow
  /** The data_version observed before the row was read or written. */
  tag: number
  bytes: number
}

export class ReadCache {
  readonly #rows = new Map<string, Cached>()
  readonly #dataVersion: () => number
  /** The data_version last read; undefined before the first read (rows cached then are revalidated on use). */
  #observed: number | undefined
  #bytes = 0

  /** `dataVersion` runs `PRAGMA data_version` on the connection the cache serves. */
  constructor(dataVersion: () => number) {
    this.#dataVersion = dataVersion
  }

  /** The row cached for `key` if it is still the stored one; undefined when it must be read from SQLite. */
  get(id: string): KvRow | undefined {
    const cached = this.#rows.get(id)
    if (cached === undefined) {
      // The first read ever: observe the counter, so the row about to be read can be cached.
      if (this.#observed === undefined) this.#observed = this.#dataVersion()
      return undefined
    }
    const now = this.#dataVersion()
    this.#observed = now
    if (cached.tag === now) return cached.row
    this.#remove(id, cached)
    return undefined
  }

  /** Caches a row just read from SQLite, or just committed by this connection. */
  put(id: string, row: KvRow): void {
    const previous = this.#rows.get(id)
    if (previous !== undefined) this.#remove(id, previous)
    const tag = this.#observed
    if (tag === undefined || row.value.length > READ_CACHE_MAX_VALUE_BYTES) return
    const bytes = id.length + row.value.length
    this.#bytes += bytes
    this.#rows.set(id, { row, tag, bytes })
    if (this.#bytes <= READ_CACHE_BYTES) return
    // Oldest first: a Map iterates in insertion order.
    for (const [oldest, entry] of this.#rows) {
      if (this.#bytes <= READ_CACHE_BYTES) break
      this.#remove(oldest, entry)
    }
  }

  /** Replaces the cached row of a key this connection has just committed, if the key is cached. */
  refresh(id: string, row: KvRow): void {
    if (this.#rows.has(id)) this.put(id, row)
  }

  /** Forgets a key this connection is deleting or rewriting. */
  drop(id: string): void {
    const cached = this.#rows.get(id)
    if (cached !== undefined) this.#remove(id, cached)
  }

  /** Forgets everything (a transaction of unknown writes). */
  clear(): void {
    this.#rows.clear()
    this.#bytes = 0
  }

  get size(): number {
    return this.#rows.size
  }

  #remove(id: string, cached: Cached): void {
    this.#rows.delete(id)
    this.#bytes -= cached.bytes
  }
}

/** The cache's key for encoded key bytes. */
export const cacheId = (key: Buffer): string => key.toString('latin1')
