/**
 * A write transaction over rows loaded before it runs, for stores that cannot read inside the core's synchronous
 * write function (drivers, PostgreSQL): reads come from the loaded rows, writes are collected, and the store
 * applies them afterwards, each key once, in its final state.
 */
import type { KvRow, QueueMessage, WriteTransaction } from './store.js'

/** A key as a Map key. */
export const keyId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')

/** A key's final state after the transaction: the row to store, or null to delete it. */
export interface BufferedWrite {
  key: Buffer
  row: KvRow | null
}

/** Thrown by a blind transaction when the function it runs reads: that group needs its rows loaded first. */
export const NEEDS_READS = Symbol('needs reads')

export class BufferedTransaction implements WriteTransaction {
  /** The loaded rows; undefined for a blind transaction, which may only write (any read throws NEEDS_READS). */
  readonly #rows: Map<string, KvRow | undefined> | undefined
  readonly #lastVersion: number
  /** The writes, one per key, in the order each key was first written. */
  readonly writes = new Map<string, BufferedWrite>()
  /** The last commit counter handed out, when one was. */
  version: number | undefined
  /** Queue messages the transaction adds, in order. */
  readonly messages: QueueMessage[] = []
  readonly enqueue = (message: QueueMessage): void => {
    this.messages.push(message)
  }

  /**
   * `rows`: every key the transaction may touch, with its stored row (undefined: absent); or undefined, for a blind
   * transaction that tries the function without reads.
   */
  constructor(rows: Map<string, KvRow | undefined> | undefined, lastVersion: number) {
    this.#rows = rows
    this.#lastVersion = lastVersion
  }

  #loaded(key: Buffer): string {
    const id = keyId(key)
    if (this.#rows !== undefined && !this.#rows.has(id)) throw new Error('internal error: a commit touched a key it did not declare')
    return id
  }

  #stored(key: Buffer): KvRow | undefined {
    if (this.#rows === undefined) throw NEEDS_READS
    return this.#rows.get(this.#loaded(key))
  }

  read(key: Buffer): KvRow | undefined {
    return this.#stored(key)
  }

  write(row: KvRow): void {
    const id = this.#loaded(row.key)
    this.#rows?.set(id, row)
    this.writes.set(id, { key: row.key, row })
  }

  remove(key: Buffer): void {
    const id = this.#loaded(key)
    this.#rows?.set(id, undefined)
    this.writes.set(id, { key, row: null })
  }

  removeExpired(key: Buffer, now: number): void {
    const row = this.#stored(key)
    if (row && row.expiresAt !== null && row.expiresAt <= now) this.remove(key)
  }

  /** The writes as rows to store and keys to delete. */
  split(): { written: KvRow[]; removed: Buffer[] } {
    const written: KvRow[] = []
    const removed: Buffer[] = []
    for (const { key, row } of this.writes.values()) {
      if (row) written.push(row)
      else removed.push(key)
    }
    return { written, removed }
  }

  nextVersion(): number {
    this.version = (this.version ?? this.#lastVersion) + 1
    return this.version
  }
}
