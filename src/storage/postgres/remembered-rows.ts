/**
 * Rows a PostgreSQL store saw last (read, or written by its own commits), for a commit that reads to run on them
 * as a guess in one flight instead of two: the flight checks, after taking the write lock, that every row the
 * commit read still has the version it was guessed with (`oneFlightCommit` in sql.ts), and otherwise aborts before
 * writing anything, so a stale guess only costs the usual two flights after it. Bounded: the most recent
 * PG_REMEMBERED_ROWS keys, rows of at most PG_REMEMBERED_VALUE_BYTES only.
 */
import { PG_REMEMBERED_ROWS, PG_REMEMBERED_VALUE_BYTES } from '../../limits.js'
import { keyId } from '../buffered-transaction.js'
import type { KvRow } from '../store.js'

export class RememberedRows {
  /** By key id: the row, or undefined for a key known absent; oldest first. */
  readonly #rows = new Map<string, KvRow | undefined>()

  /** Remembers what `key` held (undefined: nothing), forgetting a row too large to keep. */
  remember(key: Buffer, row: KvRow | undefined): void {
    const id = keyId(key)
    this.#rows.delete(id)
    if (row !== undefined && row.value.length > PG_REMEMBERED_VALUE_BYTES) return
    this.#rows.set(id, row)
    if (this.#rows.size > PG_REMEMBERED_ROWS) this.#rows.delete(this.#rows.keys().next().value as string)
  }

  /** The remembered rows of `keys` (by key id), when every one of them is remembered. */
  guess(keys: readonly Buffer[]): ReadsRecorded | undefined {
    if (keys.length === 0 || keys.length > PG_REMEMBERED_ROWS) return undefined
    const rows = new ReadsRecorded()
    for (const key of keys) {
      const id = keyId(key)
      if (!this.#rows.has(id)) return undefined
      const row = this.#rows.get(id)
      rows.set(id, row)
      rows.guessed.set(id, row?.version ?? null)
    }
    return rows
  }

  clear(): void {
    this.#rows.clear()
  }
}

/** A map of guessed rows that records which of them the transaction read: only those need checking. */
export class ReadsRecorded extends Map<string, KvRow | undefined> {
  /** The ids of the keys read. */
  readonly read = new Set<string>()
  /** Each key's guessed version (null: absent), as guessed (the transaction's writes change the map, not this). */
  readonly guessed = new Map<string, number | null>()

  override get(id: string): KvRow | undefined {
    this.read.add(id)
    return super.get(id)
  }
}
