/**
 * Value bytes: how a value is stored in the `value` and `encoding` columns.
 *
 * - encoding 1 (`SERIALIZED`): the bytes the database's serializer wrote.
 * - encoding 2 (`U64`): a top-level KvU64, as 8 little-endian bytes, whatever the serializer, so atomic
 *   sum/min/max read and write it without deserializing.
 *
 * Either way the stored bytes may be at most MAX_VALUE_BYTES.
 */
import { MAX_VALUE_BYTES } from './limits.js'
import { needsNestedU64Check, serializerName, type Serializer } from './serializers/serializer.js'
import { mapKeyStep, mapValueStep, setStep, ValueWalk } from './serializers/value-walk.js'
import { KvU64 } from './u64.js'

export const SERIALIZED = 1
export const U64 = 2

export interface EncodedValue {
  bytes: Buffer
  encoding: number
}

/** Encodes a KvU64's value as 8 little-endian bytes. */
export function encodeU64(value: bigint): Buffer {
  const bytes = Buffer.allocUnsafe(8)
  bytes.writeBigUInt64LE(value)
  return bytes
}

/** Decodes 8 little-endian bytes; throws `TypeError` for any other length (a corrupt row). */
export function decodeU64(bytes: Uint8Array): bigint {
  if (bytes.byteLength !== 8) throw new TypeError(`a KvU64 is stored as 8 bytes: found ${bytes.byteLength}`)
  return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE()
}

/**
 * For a serializer without its own check: throws `TypeError` if a KvU64 sits anywhere inside `value` (it may only be
 * a top-level value), and `RangeError` if the value is nested deeper than MAX_VALUE_DEPTH.
 */
export function assertNoNestedU64(value: unknown, serializer: string): void {
  if (typeof value !== 'object' || value === null) return
  const walk = new ValueWalk(serializer)
  const seen = new Set<object>()
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return
    if (v instanceof KvU64) walk.fail(v)
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return
    seen.add(v)
    walk.checkDepth(v)
    if (v instanceof Map) {
      let i = 0
      for (const [k, x] of v) {
        walk.at(mapKeyStep(i++), () => visit(k))
        walk.at(mapValueStep(k), () => visit(x))
      }
    } else if (v instanceof Set) {
      let i = 0
      for (const x of v) walk.at(setStep(i++), () => visit(x))
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        walk.enter(i)
        visit(v[i])
        walk.leave()
      }
    } else {
      for (const key of Object.keys(v)) {
        walk.enter(key)
        visit((v as Record<string, unknown>)[key])
        walk.leave()
      }
    }
  }
  visit(value)
}

/** Encodes a value for storage. Throws `TypeError` for a value the serializer cannot keep, `RangeError` when too large. */
export function encodeValue(value: unknown, serializer: Serializer): EncodedValue {
  if (value instanceof KvU64) return { bytes: encodeU64(value.value), encoding: U64 }
  if (needsNestedU64Check(serializer)) assertNoNestedU64(value, serializerName(serializer))
  const serialized = serializer.serialize(value)
  if (!(serialized instanceof Uint8Array)) {
    throw new TypeError(`serializer ${serializer.name ?? '(custom)'} must return a Uint8Array`)
  }
  if (serialized.length > MAX_VALUE_BYTES) {
    throw new RangeError(`Value too large (max ${MAX_VALUE_BYTES} bytes): received ${serialized.length}`)
  }
  const bytes = Buffer.isBuffer(serialized)
    ? serialized
    : Buffer.from(serialized.buffer, serialized.byteOffset, serialized.byteLength)
  return { bytes, encoding: SERIALIZED }
}

/** Decodes stored bytes back to the value. Throws for bytes no write produced (see entry.ts). */
export function decodeValue(bytes: Uint8Array, encoding: number, serializer: Serializer): unknown {
  if (encoding === SERIALIZED) return serializer.deserialize(bytes)
  if (encoding === U64) return new KvU64(decodeU64(bytes))
  throw new TypeError(`unknown value encoding ${encoding}`)
}
