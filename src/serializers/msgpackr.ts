/**
 * `valkeyrie/serializers/msgpackr`: MessagePack through the `msgpackr` package (an optional peer dependency,
 * loaded when this module is imported).
 *
 * Stored bytes: one MessagePack value, written by a msgpackr `Packr` with `useRecords: false` (plain maps, no
 * msgpackr records) and `moreTypes: true`. Standard MessagePack for null, booleans, numbers (integers up to 32
 * bits, else float64), strings, arrays, maps (plain objects) and Buffer (bin); timestamp extension -1 for Date;
 * msgpackr's extensions for undefined (0), bigint (int64, or extension 0x42 beyond 64 bits), Uint8Array and
 * ArrayBuffer (0x74).
 *
 * Kept: string, number (but -0), boolean, null, undefined, bigint, plain objects, arrays, Date, Uint8Array, Buffer,
 * ArrayBuffer. Converted, as documented: a Map becomes a plain object (its keys must be strings) and a Set an array.
 * Everything else throws `TypeError` before anything is written, including what msgpackr would change silently:
 * -0 (written as the integer 0), a property named `__proto__` (read back as `__proto_`), strings with a lone
 * surrogate (UTF-8 has none), sparse arrays, RegExp, Error, class instances and circular references.
 */
import { defineSerializer, refusesNestedU64 } from './serializer.js'
import { loadOptionalPeer } from '../optional-peer.js'
import { describePart, isWellFormedString, kindOf, mapValueStep, setOwn, setStep, ValueWalk } from './value-walk.js'

const { Packr } = await loadOptionalPeer('msgpackr', 'the msgpackr serializer', () => import('msgpackr'))

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: true,
  int64AsType: 'bigint',
  useBigIntExtension: true,
  largeBigIntToFloat: false,
  copyBuffers: true,
})

/** The value msgpackr is given: the same value, with Maps as objects and Sets as arrays; throws for the rest. */
function toPackable(value: unknown, walk: ValueWalk): unknown {
  switch (kindOf(value)) {
    case 'undefined':
    case 'null':
    case 'boolean':
    case 'bigint':
    case 'Date':
    case 'Uint8Array':
    case 'Buffer':
    case 'ArrayBuffer':
      return value
    case 'number':
      if (Object.is(value, -0)) walk.fail(value, 'msgpackr writes it as the integer 0')
      return value
    case 'string':
      return checkString(value as string, walk)
    case 'array':
      return walk.array(value as unknown[], (item) => toPackable(item, walk))
    case 'object':
      return walk.object(value as object, (item, key) => {
        checkKey(key, walk)
        return toPackable(item, walk)
      })
    case 'Map': {
      const map = value as Map<unknown, unknown>
      walk.open(map)
      const out: Record<string, unknown> = {}
      for (const [k, v] of map) {
        if (typeof k !== 'string') {
          walk.fail(map, 'a Map is stored as an object, so its keys must be strings', `a Map with the key ${describePart(k)}`)
        }
        walk.at(mapValueStep(k), () => {
          checkKey(k, walk)
          setOwn(out, k, toPackable(v, walk))
        })
      }
      walk.close(map)
      return out
    }
    case 'Set': {
      const set = value as Set<unknown>
      walk.open(set)
      const out: unknown[] = []
      let i = 0
      for (const item of set) out.push(walk.at(setStep(i++), () => toPackable(item, walk)))
      walk.close(set)
      return out
    }
    default:
      return walk.fail(value)
  }
}

function checkString(value: string, walk: ValueWalk): string {
  if (!isWellFormedString(value)) walk.fail(value, 'it has a lone surrogate, which UTF-8 cannot encode')
  return value
}

function checkKey(key: string, walk: ValueWalk): void {
  if (key === '__proto__') walk.fail(key, 'msgpackr reads it back as "__proto_"', 'a property named "__proto__"')
  if (!isWellFormedString(key)) walk.fail(key, 'it has a lone surrogate, which UTF-8 cannot encode', 'a property name')
}

/** Serializes values as MessagePack with msgpackr, keeping the types listed above. */
export const msgpackrSerializer = refusesNestedU64(defineSerializer({
  name: 'msgpackr',
  serialize(value: unknown): Uint8Array {
    return packr.pack(toPackable(value, new ValueWalk('msgpackr')))
  },
  deserialize(value: Uint8Array): unknown {
    // msgpackr reads bin as the class of its input: a Buffer, as it was written.
    return packr.unpack(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength))
  },
}))
