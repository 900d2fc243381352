/** Secondary indexes: values computed from a record, kept in the same commit as the record. */
import { describeValue } from '../errors.js'
import type { KvKeyPart } from '../types.js'
import { assertKeyPart } from './layout.js'

/** Computes a record's index value: a key part, or `null` / `undefined` to leave the record out of the index. */
export type IndexFunction<T> = (value: T) => KvKeyPart | null | undefined

/** An index with its options. */
export interface IndexOptions<T> {
  /** Computes the index value from a record's value. */
  on: IndexFunction<T>
  /** At most one record per index value (default false); a second one fails with `UniqueConstraintError`. */
  unique?: boolean | undefined
}

/** An index: a function (non-unique), or `{ on, unique }`. */
export type IndexDefinition<T> = IndexFunction<T> | IndexOptions<T>

/** A collection's indexes by name. */
export type IndexDefinitions<T> = { readonly [name: string]: IndexDefinition<T> }

/**
 * Whether an index definition may be unique, or may be non-unique. An object declared outside `collection()` has
 * `unique: boolean`, not `true`: such an index may be either, so both `findBy` and `listBy` take its name (the one
 * that does not fit throws `TypeError`). Declare it `as const` or with `satisfies` to keep the literal.
 */
type MayBeUnique<D> = D extends (...args: never) => unknown
  ? false
  : 'unique' extends keyof D
    ? true extends D['unique' & keyof D]
      ? true
      : false
    : false
type MayBeNonUnique<D> = D extends (...args: never) => unknown
  ? true
  : 'unique' extends keyof D
    ? {} extends Pick<D, 'unique' & keyof D>
      ? true
      : false extends D['unique' & keyof D]
        ? true
        : undefined extends D['unique' & keyof D]
          ? true
          : false
    : true

/** The names of the unique indexes (and of indexes that may be unique: see `MayBeUnique`). */
export type UniqueIndexName<TIndexes> = {
  [K in keyof TIndexes]: MayBeUnique<TIndexes[K]> extends true ? K : never
}[keyof TIndexes] &
  string

/** The names of the non-unique indexes (and of indexes that may be non-unique). */
export type NonUniqueIndexName<TIndexes> = {
  [K in keyof TIndexes]: MayBeNonUnique<TIndexes[K]> extends true ? K : never
}[keyof TIndexes] &
  string

type IndexResult<TDefinition> = TDefinition extends (value: never) => infer R
  ? R
  : TDefinition extends { readonly on: (value: never) => infer R }
    ? R
    : never

/** The type of an index's values. */
export type IndexValue<TIndexes, K extends keyof TIndexes> = NonNullable<IndexResult<TIndexes[K]>>

/** An index as the collection runs it. */
export interface Index {
  name: string
  unique: boolean
  /** The index value of a value being written; throws `TypeError` when the function returns something else. */
  compute(value: unknown): KvKeyPart | undefined
}

/** Checks and normalizes the `indexes` option. Throws `TypeError` on a malformed definition. */
export function toIndexes(definitions: unknown): Index[] {
  if (definitions === undefined) return []
  if (typeof definitions !== 'object' || definitions === null || Array.isArray(definitions)) {
    throw new TypeError(`indexes must be an object of index definitions: received ${describeValue(definitions)}`)
  }
  return Object.entries(definitions).map(([name, definition]): Index => {
    const { on, unique } =
      typeof definition === 'function' ? { on: definition as unknown, unique: false } : ((definition ?? {}) as { on?: unknown; unique?: unknown })
    if (typeof on !== 'function') {
      throw new TypeError(`index ${name} must be a function or { on, unique }: received ${describeValue(definition)}`)
    }
    if (unique !== undefined && typeof unique !== 'boolean') {
      throw new TypeError(`index ${name} unique must be a boolean: received ${describeValue(unique)}`)
    }
    return {
      name,
      unique: unique ?? false,
      compute(value) {
        const result: unknown = on(value)
        if (result === null || result === undefined) return undefined
        assertKeyPart(result, `index ${name} value`)
        return result
      },
    }
  })
}

/**
 * The index value of a value already stored, or undefined when it has none or when the index function cannot read
 * it (a record written before the index existed): such a record holds no index value.
 */
export function storedIndexValue(index: Index, value: unknown): KvKeyPart | undefined {
  try {
    return index.compute(value)
  } catch {
    return undefined
  }
}
