/** The iterator of `collection.list()` and `collection.listBy()`: typed entries, with a cursor for resuming. */
import { describeValue } from '../errors.js'
import type { KvKey } from '../types.js'

/** A record of a collection: its id, its full key, its value (the schema's output) and its versionstamp. */
export interface CollectionEntry<T, TId> {
  id: TId
  key: KvKey
  value: T
  versionstamp: string
}

/** The result of a collection read: the entry, or nulls when the record is absent (or skipped as invalid). */
export type CollectionEntryMaybe<T, TId> =
  | CollectionEntry<T, TId>
  | { id: TId; key: KvKey; value: null; versionstamp: null }

/** An entry with the cursor of the position after it. */
export interface PositionedEntry<T, TId> {
  entry: CollectionEntry<T, TId>
  cursor: string
}

/** Records in key order (or reverse), streamed in batches. */
export class CollectionListIterator<T, TId> implements AsyncIterableIterator<CollectionEntry<T, TId>> {
  readonly #source: AsyncGenerator<PositionedEntry<T, TId>, void, undefined>
  #cursor: string

  /** @internal */
  constructor(source: AsyncGenerator<PositionedEntry<T, TId>, void, undefined>, cursor: string) {
    this.#source = source
    this.#cursor = cursor
  }

  /** The position after the last entry returned, for the `cursor` option; `''` before the first entry. */
  get cursor(): string {
    return this.#cursor
  }

  async next(): Promise<IteratorResult<CollectionEntry<T, TId>, undefined>> {
    const result = await this.#source.next()
    if (result.done) return { done: true, value: undefined }
    this.#cursor = result.value.cursor
    return { done: false, value: result.value.entry }
  }

  async return(): Promise<IteratorResult<CollectionEntry<T, TId>, undefined>> {
    await this.#source.return()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/** The `limit` option: a positive integer, or Infinity when absent. */
export function limitOption(limit: unknown): number {
  if (limit === undefined) return Infinity
  if (typeof limit !== 'number' || !Number.isInteger(limit)) {
    throw new TypeError(`limit must be a positive integer: received ${describeValue(limit)}`)
  }
  if (limit < 1) throw new RangeError(`limit must be between 1 and Infinity: received ${limit}`)
  return limit
}
