/** `list`: an async iterator that streams a key range in batches, with a cursor for resuming (SPEC §5). */
import type { KvRow, RangeQuery } from './storage/store.js'
import { toEntry } from './entry.js'
import { describeValue } from './errors.js'
import { isLive } from './expiry.js'
import { decodeKey } from './key/codec.js'
import { applyCursor, encodeCursor, resolveSelector, type KeyRange } from './key/range.js'
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from './limits.js'
import type { KvEntry, KvListOptions, KvListSelector } from './types.js'
import type { Serializer } from './serializers/serializer.js'

/** What the iterator needs from its database. */
export interface ListSource {
  /** Reads a batch; rejects if the database is closed or the store fails. */
  readRange(query: RangeQuery): Promise<KvRow[]>
  now(): number
  /** Decodes the values (see entry.ts). */
  serializer: Serializer
  /** Called for each expired row a batch met. */
  foundExpired(key: Buffer): void
  /** Give each entry its `expiresAt` too (for export). */
  withExpiry?: boolean
}

function positiveInteger(value: unknown, name: string, max?: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be a positive integer: received ${describeValue(value)}`)
  }
  if (value < 1) throw new RangeError(`${name} must be a positive integer: received ${value}`)
  if (max !== undefined && value > max) throw new RangeError(`${name} must be at most ${max}: received ${value}`)
  return value
}

/** The options `list` takes. */
export const LIST_OPTION_NAMES: ReadonlySet<string> = new Set<string>(
  ['limit', 'cursor', 'reverse', 'batchSize'] satisfies (keyof KvListOptions)[],
)

/** Validated list options. */
interface ListPlan {
  range: KeyRange
  /** The range still to read. */
  start: Buffer
  end: Buffer
  reverse: boolean
  limit: number
  batchSize: number
}

function planList(selector: KvListSelector, options: KvListOptions = {}): ListPlan {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`list options must be an object: received ${describeValue(options)}`)
  }
  for (const name in options) {
    if (!LIST_OPTION_NAMES.has(name)) throw new TypeError(`unknown list option ${JSON.stringify(name)}`)
  }
  const range = resolveSelector(selector)
  const reverse = options.reverse ?? false
  if (typeof reverse !== 'boolean') throw new TypeError(`reverse must be a boolean: received ${describeValue(reverse)}`)
  const limit = positiveInteger(options.limit, 'limit') ?? Infinity
  const batchSize = positiveInteger(options.batchSize, 'batchSize', MAX_BATCH_SIZE) ?? DEFAULT_BATCH_SIZE
  const { start, end } =
    options.cursor === undefined || options.cursor === '' ? range : applyCursor(range, options.cursor, reverse)
  return { range, start, end, reverse, limit, batchSize }
}

/**
 * Entries of a selector in key order (or reverse), read `batchSize` at a time. Each batch is one statement, so no
 * read transaction stays open across an `await`.
 */
export class KvListIterator<T = unknown, TEntry extends KvEntry<T> = KvEntry<T>> implements AsyncIterableIterator<TEntry> {
  readonly #source: ListSource
  readonly #plan: ListPlan
  #batch: KvRow[] = []
  #index = 0
  #remaining: number
  #exhausted = false
  #cursor: string
  /** The key of the last entry returned, until the cursor getter encodes it. */
  #lastKey: Buffer | undefined

  /** @internal */
  constructor(source: ListSource, selector: KvListSelector, options?: KvListOptions) {
    this.#source = source
    this.#plan = planList(selector, options)
    this.#remaining = this.#plan.limit
    this.#cursor = options?.cursor ?? ''
  }

  /** The position after the last entry returned, for `options.cursor`; `''` before the first entry. */
  get cursor(): string {
    // Encoded on demand: most listings never ask, and base64 per entry would cost more than decoding the key.
    if (this.#lastKey) {
      this.#cursor = encodeCursor(this.#lastKey, this.#plan.range)
      this.#lastKey = undefined
    }
    return this.#cursor
  }

  next(): Promise<IteratorResult<TEntry, undefined>> {
    // Not `async`: an entry already in the batch resolves without an async function's extra ticks.
    try {
      const row = this.#nextRow()
      if (row) return Promise.resolve(this.#result(row))
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#nextRowAfterRead().then((row) => this.#result(row))
  }

  #result(row: KvRow | undefined): IteratorResult<TEntry, undefined> {
    if (!row) return { done: true, value: undefined }
    this.#remaining--
    // Moved past the row before decoding it, so a CorruptValueError leaves the cursor after the bad entry.
    this.#lastKey = row.key
    const entry = toEntry<T>(decodeKey(row.key), row, this.#source.serializer)
    return { done: false, value: (this.#source.withExpiry ? { ...entry, expiresAt: row.expiresAt } : entry) as TEntry }
  }

  /** The next live row of the current batch, if it has one. */
  #nextRow(): KvRow | undefined {
    while (this.#remaining > 0 && this.#index < this.#batch.length) {
      const row = this.#batch[this.#index++] as KvRow
      // Judged as each entry is returned, not when its batch was read: it may have expired in between.
      if (isLive(row, this.#source.now())) return row
      this.#source.foundExpired(row.key)
    }
    return undefined
  }

  /** Reads batches until one yields a live row or the range is exhausted. */
  async #nextRowAfterRead(): Promise<KvRow | undefined> {
    while (this.#remaining > 0 && !this.#exhausted) {
      await this.#readBatch()
      const row = this.#nextRow()
      if (row) return row
    }
    return undefined
  }

  async #readBatch(): Promise<void> {
    const plan = this.#plan
    const limit = Math.min(plan.batchSize, this.#remaining)
    const rows = await this.#source.readRange({ start: plan.start, end: plan.end, limit, reverse: plan.reverse })
    this.#batch = rows
    this.#index = 0
    if (rows.length < limit) this.#exhausted = true
    const last = rows.at(-1)
    if (!last) return
    if (plan.reverse) plan.end = last.key
    else plan.start = Buffer.concat([last.key, ZERO])
  }

  async return(): Promise<IteratorResult<TEntry, undefined>> {
    this.#exhausted = true
    this.#batch = []
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

const ZERO = Buffer.of(0)
