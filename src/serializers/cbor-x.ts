/**
 * `valkeyrie/serializers/cbor-x`: CBOR (RFC 8949) through the `cbor-x` package (an optional peer dependency,
 * loaded when this module is imported).
 *
 * Stored bytes: one CBOR data item, written by a cbor-x `Encoder` with `useRecords: false` (plain CBOR maps, no
 * cbor-x records) and `variableMapSize: true` (the shortest map headers). Plain objects are maps with text keys;
 * registered tags mark the rest: 1 (epoch seconds) for Date, or 0 (an ISO string) for the far dates whose
 * milliseconds tag 1 would round; 2/3 for bigints beyond 64 bits (smaller ones are 64-bit integers, read back as
 * bigint: numbers never use that width); 64 for Uint8Array; 258 for Set; 259 for Map. A Buffer is an untagged
 * byte string. A value that holds -0 is written with every number as a float, as -0 has no integer form.
 *
 * Kept: string, number, boolean, null, undefined, bigint, plain objects, arrays, Map (any keys), Set, Date,
 * Uint8Array, Buffer. Converted, as documented: an ArrayBuffer is read back as a Uint8Array. Everything else throws
 * `TypeError` before anything is written, including what cbor-x would change silently: a property named
 * `__proto__` (read back as `__proto_`), strings with a lone surrogate (UTF-8 has none), sparse arrays, RegExp,
 * Error, other typed arrays, class instances and circular references.
 */
import { defineSerializer, refusesNestedU64 } from './serializer.js'
import { loadOptionalPeer } from '../optional-peer.js'
import { isWellFormedString, kindOf, mapKeyStep, mapValueStep, setStep, ValueWalk } from './value-walk.js'

const { Encoder, Tag } = await loadOptionalPeer('cbor-x', 'the cbor-x serializer', () => import('cbor-x'))

const OPTIONS = {
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: true,
  copyBuffers: true,
  largeBigIntToFloat: false,
}
const encoder = new Encoder(OPTIONS)
/** For a value that holds -0: integers are otherwise written as CBOR integers, which have no -0. */
const floatEncoder = new Encoder({ ...OPTIONS, alwaysUseFloat: true })

/** CBOR tag 0: a date as an RFC 3339 string. */
const DATE_STRING_TAG = 0

/** One encoding: the walk, and whether the value held a -0. */
class CborEncoding {
  readonly walk = new ValueWalk('cbor-x')
  hasNegativeZero = false

  /** The value cbor-x is given: the same value with ArrayBuffer as Uint8Array and far dates tagged; throws for the rest. */
  toEncodable(value: unknown): unknown {
    const walk = this.walk
    switch (kindOf(value)) {
      case 'undefined':
      case 'null':
      case 'boolean':
      case 'bigint':
      case 'Uint8Array':
      case 'Buffer':
        return value
      case 'number':
        if (Object.is(value, -0)) this.hasNegativeZero = true
        return value
      case 'string':
        if (!isWellFormedString(value as string)) walk.fail(value, 'it has a lone surrogate, which UTF-8 cannot encode')
        return value
      case 'ArrayBuffer':
        return new Uint8Array(value as ArrayBuffer)
      case 'Date': {
        // Tag 1 holds seconds as a float; cbor-x reads it back as Math.round(seconds * 1000), which misses by a
        // millisecond for some dates beyond the year 100000. Those are written as tag 0 (ISO string) instead.
        const time = (value as Date).getTime()
        if (Number.isNaN(time) || Math.round((time / 1000) * 1000) === time) return value
        return new Tag((value as Date).toISOString(), DATE_STRING_TAG)
      }
      case 'array':
        return walk.array(value as unknown[], (item) => this.toEncodable(item))
      case 'object':
        return walk.object(value as object, (item, key) => {
          if (key === '__proto__') walk.fail(key, 'cbor-x reads it back as "__proto_"', 'a property named "__proto__"')
          if (!isWellFormedString(key)) walk.fail(key, 'it has a lone surrogate, which UTF-8 cannot encode', 'a property name')
          return this.toEncodable(item)
        })
      case 'Map': {
        const map = value as Map<unknown, unknown>
        walk.open(map)
        let out: Map<unknown, unknown> | undefined
        let i = 0
        for (const [k, v] of map) {
          const key = walk.at(mapKeyStep(i), () => this.toEncodable(k))
          const item = walk.at(mapValueStep(k), () => this.toEncodable(v))
          if ((key !== k || item !== v) && out === undefined) out = new Map([...map].slice(0, i))
          out?.set(key, item)
          i++
        }
        walk.close(map)
        return out ?? map
      }
      case 'Set': {
        const set = value as Set<unknown>
        walk.open(set)
        let out: Set<unknown> | undefined
        let i = 0
        for (const item of set) {
          const mapped = walk.at(setStep(i), () => this.toEncodable(item))
          if (mapped !== item && out === undefined) out = new Set([...set].slice(0, i))
          out?.add(mapped)
          i++
        }
        walk.close(set)
        return out ?? set
      }
      default:
        return walk.fail(value)
    }
  }
}

/** Serializes values as CBOR with cbor-x, keeping the types listed above. */
export const cborXSerializer = refusesNestedU64(defineSerializer({
  name: 'cbor-x',
  serialize(value: unknown): Uint8Array {
    const encoding = new CborEncoding()
    const encodable = encoding.toEncodable(value)
    return (encoding.hasNegativeZero ? floatEncoder : encoder).encode(encodable)
  },
  deserialize(value: Uint8Array): unknown {
    // cbor-x reads an untagged byte string as the class of its input: a Buffer, as it was written.
    return encoder.decode(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength))
  },
}))
