/**
 * Where a collection keeps its records and index entries. This is the stored format:
 *
 * | what | key | value |
 * | --- | --- | --- |
 * | record | `[...prefix, ...id]` | the schema's output for the value written |
 * | unique index entry | `[...indexPrefix, indexName, indexValue]` | the record's id, as an array of key parts |
 * | index entry | `[...indexPrefix, indexName, indexValue, ...id]` | `null` |
 *
 * `indexPrefix` defaults to `['__index', prefixBytes]`, where `prefixBytes` is the collection prefix's encoded key
 * (a Uint8Array): ONE key part for the whole prefix, so two collections never share an index entry, however their
 * prefixes nest (`['__index', ...prefix]` made `['users']`'s index `team` and `['users', 'team']`'s indexes write
 * the same keys). `'__index'` is reserved for these entries: no collection prefix and no chosen `indexPrefix` may
 * begin with it, so no record or chosen entry lands among them either. Outside the records' prefix, so
 * `db.list({ prefix })` and `collection.list()` meet records only. An id has exactly `idParts` key parts; a key under
 * the prefix with another number of parts after it is not a record of the collection, and collection reads pass over
 * it.
 */
import { describeValue, formatKey } from '../errors.js'
import { encodeKey } from '../key/codec.js'
import type { KvKey, KvKeyPart } from '../types.js'

/** The first part of the default index prefix. */
export const INDEX_SPACE = '__index'

/** Whether `value` is a key part: a string, number, bigint, boolean or Uint8Array. */
export function isKeyPart(value: unknown): value is KvKeyPart {
  const type = typeof value
  return type === 'string' || type === 'number' || type === 'bigint' || type === 'boolean' || value instanceof Uint8Array
}

/** Throws `TypeError` unless `value` is a key part. */
export function assertKeyPart(value: unknown, what: string): asserts value is KvKeyPart {
  if (!isKeyPart(value)) {
    throw new TypeError(`${what} must be a string, number, bigint, boolean or Uint8Array: received ${describeValue(value)}`)
  }
}

/** Whether two key parts are the same key part (as keys compare: `0` and `-0` differ, every NaN is the same). */
export function samePart(a: KvKeyPart | undefined, b: KvKeyPart | undefined): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0
  return Object.is(a, b)
}

/** Whether two ids (or other arrays of key parts) are the same parts in the same order. */
export function sameParts(a: readonly KvKeyPart[], b: readonly KvKeyPart[]): boolean {
  return a.length === b.length && a.every((part, i) => samePart(part, b[i]))
}

/** The keys of one collection: records by id, and index entries by index name and value. */
export class KeyLayout {
  readonly prefix: readonly KvKeyPart[]
  readonly indexPrefix: readonly KvKeyPart[]
  readonly idParts: number

  constructor(prefix: KvKey, indexPrefix: KvKey | undefined, idParts: number) {
    const prefixBytes = encodeKey(prefix, { what: 'collection prefix' })
    assertOutsideIndexSpace(prefix, 'collection prefix')
    if (indexPrefix !== undefined) {
      encodeKey(indexPrefix, { what: 'indexPrefix' })
      assertOutsideIndexSpace(indexPrefix, 'indexPrefix')
      if (startsWith(indexPrefix, prefix) || startsWith(prefix, indexPrefix)) {
        throw new TypeError(
          `indexPrefix must be neither inside the collection prefix nor around it: received ${formatKey(indexPrefix)} for prefix ${formatKey(prefix)}`,
        )
      }
    }
    this.prefix = [...prefix]
    // A copy that is a plain Uint8Array, not a view of the encoder's Buffer.
    this.indexPrefix = indexPrefix === undefined ? [INDEX_SPACE, Uint8Array.from(prefixBytes)] : [...indexPrefix]
    this.idParts = idParts
  }

  /** The parts of an id: one key part, or an array of exactly `idParts` parts. Throws `TypeError` otherwise. */
  idPartsOf(id: unknown): KvKeyPart[] {
    if (this.idParts === 1) {
      assertKeyPart(id, 'id')
      return [id]
    }
    if (!Array.isArray(id) || id.length !== this.idParts) {
      throw new TypeError(`id must be an array of ${this.idParts} key parts: received ${describeIdShape(id)}`)
    }
    id.forEach((part, i) => assertKeyPart(part, `id part ${i}`))
    return [...(id as KvKeyPart[])]
  }

  /** An id as collection reads return it: the part itself, or an array of parts. */
  toId(parts: readonly KvKeyPart[]): KvKeyPart | KvKeyPart[] {
    return this.idParts === 1 ? (parts[0] as KvKeyPart) : [...parts]
  }

  /** The parts of a stored id (the value of a unique index entry), or undefined when it is not one. */
  storedIdParts(value: unknown): KvKeyPart[] | undefined {
    return Array.isArray(value) && value.length === this.idParts && value.every(isKeyPart) ? [...value] : undefined
  }

  recordKey(parts: readonly KvKeyPart[]): KvKeyPart[] {
    return [...this.prefix, ...parts]
  }

  /** The id parts of a key under the prefix, or undefined when the key is not a record of this collection. */
  recordIdParts(key: KvKey): KvKeyPart[] | undefined {
    return key.length === this.prefix.length + this.idParts ? key.slice(this.prefix.length) : undefined
  }

  uniqueKey(index: string, value: KvKeyPart): KvKeyPart[] {
    return [...this.indexPrefix, index, value]
  }

  /** The prefix of a non-unique index's entries for one value. */
  entryPrefix(index: string, value: KvKeyPart): KvKeyPart[] {
    return [...this.indexPrefix, index, value]
  }

  entryKey(index: string, value: KvKeyPart, parts: readonly KvKeyPart[]): KvKeyPart[] {
    return [...this.indexPrefix, index, value, ...parts]
  }

  /** The id parts of a non-unique index entry's key, or undefined when it has the wrong length. */
  entryIdParts(key: KvKey): KvKeyPart[] | undefined {
    const from = this.indexPrefix.length + 2
    return key.length === from + this.idParts ? key.slice(from) : undefined
  }
}

/** Throws `TypeError` when a key begins with `'__index'`, the part reserved for default index entries. */
function assertOutsideIndexSpace(key: KvKey, what: string): void {
  if (key[0] === INDEX_SPACE) {
    throw new TypeError(`${what} must not begin with '${INDEX_SPACE}', which holds index entries: received ${formatKey(key)}`)
  }
}

/** Whether `key` begins with every part of `prefix`. */
function startsWith(key: KvKey, prefix: KvKey): boolean {
  return key.length >= prefix.length && prefix.every((part, i) => samePart(part, key[i]))
}

function describeIdShape(id: unknown): string {
  return Array.isArray(id) ? `an array of ${id.length} parts` : describeValue(id)
}
