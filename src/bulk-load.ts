/**
 * Bulk loading: `Valkeyrie.from` / `fromAsync` options, the key of each item, and the batching of many writes into
 * commits that stay inside the commit limits by count (MAX_MUTATIONS) and by bytes (MAX_TOTAL_MUTATION_BYTES,
 * MAX_TOTAL_KEY_BYTES), whatever the size of the items.
 */
import type { PreparedCommit, PreparedMutation } from './commit.js'
import { describeValue } from './errors.js'
import { expiresAtFor } from './expiry.js'
import { MAX_MUTATIONS, MAX_TOTAL_KEY_BYTES, MAX_TOTAL_MUTATION_BYTES } from './limits.js'
import type { KvKey, KvKeyPart } from './types.js'
import type { ValkeyrieOptions } from './valkeyrie.js'

/** One entry to write: its full key, its value, and optionally when it expires (in ms from now, or at a time). */
export interface LoadEntry {
  key: KvKey
  value: unknown
  /** Milliseconds until the entry expires. */
  expireIn?: number
  /** When the entry expires, in epoch ms (kept exactly); an entry already expired then is skipped. */
  expiresAt?: number
}

/** What a load did. */
export interface LoadResult {
  /** Entries written (or, validating only, that would be). */
  loaded: number
  /** Entries skipped because their `expiresAt` had passed. */
  expired: number
}

/** How `load` reports and what it does. */
export interface LoadOptions {
  /** Called after each commit with the number of entries written so far. */
  onProgress?: (loaded: number) => void
  /** Validate and encode every entry (keys, values, limits) without writing anything. */
  validateOnly?: boolean
}

/** The options of `Valkeyrie.from` and `Valkeyrie.fromAsync`, besides those of `Valkeyrie.open`. */
export interface BulkLoadOptions<T> {
  /** The database file; omitted, the database is in memory. */
  path?: string
  /** The key prefix of every item: the key of an item is `[...prefix, keyPart]`. */
  prefix: KvKey
  /** The property of each item that is its last key part, or a function that returns it. */
  keyProperty: keyof T | ((item: T) => KvKeyPart)
  /** Milliseconds until every loaded item expires. */
  expireIn?: number
  /**
   * Called as the items are written, with how many have been written so far and, when the source's size is known
   * (an array, a Set, a Map), how many there are.
   */
  onProgress?: (loaded: number, total?: number) => void
}

/** The names `from` and `fromAsync` take besides the options of `Valkeyrie.open`. */
export const BULK_LOAD_OPTION_NAMES: ReadonlySet<string> = new Set(['path', 'prefix', 'keyProperty', 'expireIn', 'onProgress'])

/** Validates the bulk options (before any I/O) and returns a function from an item to its entry. */
export function planBulkLoad<T>(options: BulkLoadOptions<T>): (item: T) => LoadEntry {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`from takes an options object with prefix and keyProperty: received ${describeValue(options)}`)
  }
  const { prefix, keyProperty, expireIn, onProgress, path } = options
  if (!Array.isArray(prefix)) throw new TypeError(`prefix must be a key (an array of key parts): received ${describeValue(prefix)}`)
  const keyOf = keyFunction(keyProperty)
  if (expireIn !== undefined) expiresAtFor(expireIn, 0)
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`onProgress must be a function: received ${describeValue(onProgress)}`)
  }
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw new TypeError(`path must be a non-empty string: received ${describeValue(path)}`)
  }
  return (item) => {
    const key = [...prefix, keyOf(item)]
    return expireIn === undefined ? { key, value: item } : { key, value: item, expireIn }
  }
}

function keyFunction<T>(keyProperty: BulkLoadOptions<T>['keyProperty']): (item: T) => KvKeyPart {
  if (typeof keyProperty === 'function') return keyProperty
  if (typeof keyProperty !== 'string' && typeof keyProperty !== 'number' && typeof keyProperty !== 'symbol') {
    throw new TypeError(`keyProperty must be a property name or a function: received ${describeValue(keyProperty)}`)
  }
  return (item) => {
    if (typeof item !== 'object' || item === null) {
      throw new TypeError(`an item must be an object to have a ${String(keyProperty)} property: received ${describeValue(item)}`)
    }
    return (item as Record<PropertyKey, unknown>)[keyProperty] as KvKeyPart
  }
}

/** How many items a source holds, when it says so without being iterated (an array, a Set, a Map). */
export function sizeOf(source: unknown): number | undefined {
  if (Array.isArray(source)) return source.length
  if (source instanceof Set || source instanceof Map) return source.size
  return undefined
}

/** The bytes a prepared mutation counts towards the commit limits (as prepareCommit counts them). */
export function mutationBytes(m: PreparedMutation): number {
  return m.key.length + (m.type === 'set' ? m.value.length : m.type === 'delete' ? 0 : 8)
}

/**
 * Gathers prepared mutations into commits that stay within the limits: at most MAX_MUTATIONS mutations,
 * MAX_TOTAL_KEY_BYTES of keys and MAX_TOTAL_MUTATION_BYTES in all. One mutation alone always fits, since each
 * value is at most MAX_VALUE_BYTES and each key MAX_KEY_BYTES.
 */
export class CommitBatcher {
  #mutations: PreparedMutation[] = []
  #keyBytes = 0
  #bytes = 0

  /** Adds a mutation; returns the commit to write first when the mutation would not fit in the current one. */
  add(mutation: PreparedMutation): PreparedCommit | undefined {
    const bytes = mutationBytes(mutation)
    const full =
      this.#mutations.length >= MAX_MUTATIONS ||
      this.#keyBytes + mutation.key.length > MAX_TOTAL_KEY_BYTES ||
      this.#bytes + bytes > MAX_TOTAL_MUTATION_BYTES
    const ready = full ? this.take() : undefined
    this.#mutations.push(mutation)
    this.#keyBytes += mutation.key.length
    this.#bytes += bytes
    return ready
  }

  /** How many mutations are waiting. */
  get size(): number {
    return this.#mutations.length
  }

  /** The mutations gathered so far as one commit (none when empty), and starts again. */
  take(): PreparedCommit | undefined {
    if (this.#mutations.length === 0) return undefined
    const commit: PreparedCommit = { checks: [], mutations: this.#mutations, bytes: this.#bytes }
    this.#mutations = []
    this.#keyBytes = 0
    this.#bytes = 0
    return commit
  }
}

/** Splits `from`/`fromAsync` options into the bulk options and those of `open`. */
export function splitBulkOptions<T>(options: BulkLoadOptions<T> & ValkeyrieOptions): [BulkLoadOptions<T>, ValkeyrieOptions] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object with prefix and keyProperty: received ${describeValue(options)}`)
  }
  const bulk: Record<string, unknown> = {}
  const open: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(options)) (BULK_LOAD_OPTION_NAMES.has(name) ? bulk : open)[name] = value
  return [bulk as unknown as BulkLoadOptions<T>, open as ValkeyrieOptions]
}

/** Each item of a source as the entry to load. */
export async function* mapItems<T>(items: AsyncIterable<T> | Iterable<T>, toEntry: (item: T) => LoadEntry): AsyncGenerator<LoadEntry> {
  let index = 0
  for await (const item of items) {
    index++
    let entry: LoadEntry
    try {
      entry = toEntry(item)
    } catch (error) {
      throw numbered(error, index)
    }
    yield entry
  }
}

/** A caller mistake in the n-th item of a load, its message led by `item <n>`; other errors as they are. */
export function numbered(error: unknown, n: number): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error
  const message = `item ${n}: ${error.message}`
  return error instanceof RangeError ? new RangeError(message, { cause: error }) : new TypeError(message, { cause: error })
}
