/**
 * A pure in-memory driver: entries in an array sorted by key bytes, found by binary search. No SQLite, nothing on
 * disk; each `Valkeyrie.open` with it starts empty. Point reads are O(log n); writes of a new key shift the array
 * (O(n)), fine up to a few hundred thousand entries.
 */
import { defineDriver, type DriverEntry, type KvDriver } from './driver.js'

const compare = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)

/** The in-memory store behind `memoryDriver`. */
export class MemoryDriver implements KvDriver {
  readonly #entries: DriverEntry[] = []

  /** The index of `key`, or of where it would go (then `found` is false). */
  #find(key: Uint8Array): { index: number; found: boolean } {
    let low = 0
    let high = this.#entries.length
    while (low < high) {
      const mid = (low + high) >>> 1
      const order = compare((this.#entries[mid] as DriverEntry).key, key)
      if (order === 0) return { index: mid, found: true }
      if (order < 0) low = mid + 1
      else high = mid
    }
    return { index: low, found: false }
  }

  get(key: Uint8Array): DriverEntry | undefined {
    const { index, found } = this.#find(key)
    return found ? this.#entries[index] : undefined
  }

  set(key: Uint8Array, value: Uint8Array, versionstamp: string, expiresAt: number | null): void {
    // Copies: the caller may reuse its buffers.
    const entry: DriverEntry = { key: Uint8Array.from(key), value: Uint8Array.from(value), versionstamp, expiresAt }
    const { index, found } = this.#find(key)
    if (found) this.#entries[index] = entry
    else this.#entries.splice(index, 0, entry)
  }

  delete(key: Uint8Array): void {
    const { index, found } = this.#find(key)
    if (found) this.#entries.splice(index, 1)
  }

  list(start: Uint8Array, end: Uint8Array, _prefix: Uint8Array, _now: number, limit: number, reverse: boolean): DriverEntry[] {
    const from = this.#find(start).index
    const to = this.#find(end).index
    if (reverse) return this.#entries.slice(Math.max(from, to - limit), to).reverse()
    return this.#entries.slice(from, Math.min(to, from + limit))
  }

  cleanup(now: number): void {
    const entries = this.#entries
    let kept = 0
    for (const entry of entries) if (entry.expiresAt === null || entry.expiresAt > now) entries[kept++] = entry
    entries.length = kept
  }

  /** Nothing to isolate in one process: the library runs one callback at a time and undoes failed writes. */
  withTransaction<T>(callback: () => Promise<T>): Promise<T> {
    return callback()
  }

  close(): void {
    this.#entries.length = 0
  }
}

/** A driver that keeps everything in memory: `Valkeyrie.open(undefined, memoryDriver)`. */
export const memoryDriver = defineDriver(() => new MemoryDriver())
