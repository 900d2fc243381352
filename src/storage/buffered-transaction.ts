/**
 * A write transaction over rows loaded before it runs, for stores that cannot read inside the core's synchronous
 * write function (drivers, PostgreSQL): reads come from the loaded rows, writes are collected, and the store
 * applies them afterwards, each key once, in its final state.
 */
import type { KvRow, WriteTransaction } from './store.js'

/** A key as a Map key. */
export const keyId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')

/** A key's final state after the transaction: the row to store, or null to delete it. */
export interface BufferedWrite {
  key: Buffer
  row: KvRow | null
}

export class BufferedTransaction implements WriteTransaction {
  readonly #rows: Map<string, KvRow | undefined>
  readonly #lastVersion: number
  /** The writes, one per key, in the order each key was first written. */
  readonly writes = new Map<string, BufferedWrite>()
  /** The last commit counter handed out, when one was. */
  version: number | undefined

  /** `rows`: every key the transaction may touch, with its stored row (undefined: absent). */
  constructor(rows: Map<string, KvRow | undefined>, lastVersion: number) {
    this.#rows = rows
    this.#lastVersion = lastVersion
  }

  #loaded(key: Buffer): string {
    const id = keyId(key)
    if (!this.#rows.has(id)) throw new Error('internal error: a commit touched a key it did not declare')
    return id
  }

  read(key: Buffer): KvRow | undefined {
    return this.#rows.get(this.#loaded(key))
  }

  write(row: KvRow): void {
    const id = this.#loaded(row.key)
    this.#rows.set(id, row)
    this.writes.set(id, { key: row.key, row })
  }

  remove(key: Buffer): void {
    const id = this.#loaded(key)
    this.#rows.set(id, undefined)
    this.writes.set(id, { key, row: null })
  }

  removeExpired(key: Buffer, now: number): void {
    const row = this.#rows.get(this.#loaded(key))
    if (row && row.expiresAt !== null && row.expiresAt <= now) this.remove(key)
  }

  nextVersion(): number {
    this.version = (this.version ?? this.#lastVersion) + 1
    return this.version
  }
}
