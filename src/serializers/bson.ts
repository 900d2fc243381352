/**
 * `valkeyrie/serializers/bson`: BSON through the `bson` package (an optional peer dependency, loaded when this
 * module is imported).
 *
 * Stored bytes: one BSON document `{ v: value }` (BSON needs a document at the top). Numbers are int32 or double,
 * Date is a UTC datetime, RegExp a BSON regex (flags i, m, s, u), undefined the BSON undefined type (0x06), and
 * binary data is BSON binary with a subtype that says which class to give back:
 *
 * | value | binary subtype |
 * | --- | --- |
 * | Uint8Array | 0x00 (generic) |
 * | ArrayBuffer | 0x80 (user defined) |
 * | Buffer | 0x81 (user defined) |
 *
 * Kept: string, number, boolean, null, undefined, plain objects, arrays, Date, RegExp, Uint8Array, Buffer,
 * ArrayBuffer. Everything else throws `TypeError` before anything is written: Map, Set and bigint (as documented),
 * and what bson would change silently: an invalid Date (BSON stores it as 1970), RegExp flags g, y, d and v,
 * NUL in a property name or RegExp source, a property named `_bsontype` (bson reads it as a type marker),
 * strings with a lone surrogate (UTF-8 has none), sparse arrays, Error, class instances and circular references.
 */
import { defineSerializer } from './serializer.js'
import { loadOptionalPeer } from '../optional-peer.js'
import { isWellFormedString, kindOf, setOwn, ValueWalk } from './value-walk.js'

const bson = await loadOptionalPeer('bson', 'the bson serializer', () => import('bson'))
const { Binary, BSONRegExp, MinKey } = bson

const SUBTYPE_UINT8ARRAY = 0x00
const SUBTYPE_ARRAY_BUFFER = 0x80
const SUBTYPE_BUFFER = 0x81

// bson writes undefined as null, so undefined goes in as MinKey (which no stored value can hold: it is a class
// instance) and its type byte is then rewritten to 0x06, BSON's undefined, which bson reads back as undefined.
const TYPE_UNDEFINED = 0x06
const TYPE_MIN_KEY = 0xff
const UNDEFINED_MARKER = new MinKey()

/** BSON regex flags are JavaScript's i, m, s and u, written in alphabetical order. */
const BSON_REGEXP_FLAGS = 'imsu'

/** One encoding: the walk, and whether the value held an undefined. */
class BsonEncoding {
  readonly walk = new ValueWalk('bson')
  hasUndefined = false

  /** The value bson is given: binary data and RegExp as bson's types, undefined as a marker; throws for the rest. */
  toBson(value: unknown): unknown {
    const walk = this.walk
    switch (kindOf(value)) {
      case 'null':
      case 'boolean':
      case 'number':
        return value
      case 'undefined':
        this.hasUndefined = true
        return UNDEFINED_MARKER
      case 'string':
        if (!isWellFormedString(value as string)) walk.fail(value, 'it has a lone surrogate, which UTF-8 cannot encode')
        return value
      case 'array':
        return walk.array(value as unknown[], (item) => this.toBson(item))
      case 'object':
        return walk.object(value as object, (item, key) => {
          checkKey(key, walk)
          return this.toBson(item)
        })
      case 'Date':
        if (Number.isNaN((value as Date).getTime())) walk.fail(value, 'BSON would store it as 1970-01-01', 'an invalid Date')
        return value
      case 'RegExp':
        return toBsonRegExp(value as RegExp, walk)
      case 'Uint8Array':
        return new Binary(value as Uint8Array, SUBTYPE_UINT8ARRAY)
      case 'Buffer':
        return new Binary(value as Buffer, SUBTYPE_BUFFER)
      case 'ArrayBuffer':
        return new Binary(new Uint8Array(value as ArrayBuffer), SUBTYPE_ARRAY_BUFFER)
      case 'Map':
      case 'Set':
        return walk.fail(value, 'BSON has no such type; use a plain object or an array')
      case 'bigint':
        return walk.fail(value, 'BSON has no arbitrary-size integer; store it as a string or use another serializer')
      default:
        return walk.fail(value)
    }
  }
}

function checkKey(key: string, walk: ValueWalk): void {
  if (key.includes('\0')) walk.fail(key, 'BSON property names cannot hold NUL', 'a property name with a NUL character')
  if (key === '_bsontype') walk.fail(key, 'bson reads it as a type marker', 'a property named "_bsontype"')
  if (!isWellFormedString(key)) walk.fail(key, 'it has a lone surrogate, which UTF-8 cannot encode', 'a property name')
}

function toBsonRegExp(value: RegExp, walk: ValueWalk): InstanceType<typeof BSONRegExp> {
  for (const flag of value.flags) {
    if (!BSON_REGEXP_FLAGS.includes(flag)) walk.fail(value, `BSON has no flag ${flag} (only ${[...BSON_REGEXP_FLAGS].join(', ')})`)
  }
  if (value.source.includes('\0')) walk.fail(value, 'BSON cannot hold NUL in a regular expression')
  const flags = [...BSON_REGEXP_FLAGS].filter((flag) => value.flags.includes(flag)).join('')
  return new BSONRegExp(value.source, flags)
}

/**
 * Rewrites the type byte of every MinKey element in a BSON document to undefined. Walks the elements bson writes
 * for the values `toBson` produces: double, string, document, array, binary, boolean, datetime, null, regex,
 * int32, int64 and MinKey.
 */
function markUndefined(bytes: Uint8Array, start: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = start + view.getInt32(start, true) - 1
  let at = start + 4
  while (at < end) {
    const typeAt = at
    const type = bytes[at] as number
    at = bytes.indexOf(0, at + 1) + 1 // skip the element name (a NUL-terminated string)
    switch (type) {
      case 0x01: // double
      case 0x09: // datetime
      case 0x12: // int64
        at += 8
        break
      case 0x02: // string: int32 length (including its NUL), then the bytes
        at += 4 + view.getInt32(at, true)
        break
      case 0x03: // document
      case 0x04: // array
        markUndefined(bytes, at)
        at += view.getInt32(at, true)
        break
      case 0x05: // binary: int32 length, subtype, bytes
        at += 5 + view.getInt32(at, true)
        break
      case 0x08: // boolean
        at += 1
        break
      case 0x0a: // null
        break
      case 0x0b: // regex: two NUL-terminated strings
        at = bytes.indexOf(0, bytes.indexOf(0, at) + 1) + 1
        break
      case 0x10: // int32
        at += 4
        break
      case TYPE_MIN_KEY:
        bytes[typeAt] = TYPE_UNDEFINED
        break
      default:
        throw new Error(`bson wrote an element of unexpected type 0x${type.toString(16)}`)
    }
  }
}

type Binary = InstanceType<typeof Binary>

/** Gives back the JavaScript value for what bson read: binary data by subtype, regex as RegExp. Mutates in place. */
function fromBson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Date) return value
  if (value instanceof Binary) return fromBinary(value)
  if (value instanceof BSONRegExp) return new RegExp(value.pattern, value.options)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (typeof item === 'object' && item !== null) value[i] = fromBson(item)
    }
    return value
  }
  const object = value as Record<string, unknown>
  for (const key of Object.keys(object)) {
    const item = object[key]
    if (typeof item !== 'object' || item === null) continue
    const converted = fromBson(item)
    if (converted !== item) setOwn(object, key, converted)
  }
  return object
}

function fromBinary(binary: Binary): unknown {
  const bytes = binary.buffer.subarray(0, binary.position)
  switch (binary.sub_type) {
    case SUBTYPE_UINT8ARRAY:
      return new Uint8Array(bytes)
    case SUBTYPE_BUFFER:
      return Buffer.from(bytes)
    case SUBTYPE_ARRAY_BUFFER:
      return new Uint8Array(bytes).buffer
    default:
      throw new TypeError(`the bson serializer found binary data of unknown subtype 0x${binary.sub_type.toString(16)}`)
  }
}

/** Serializes values as BSON, keeping the types listed above. Frozen, like every built-in serializer. */
export const bsonSerializer = Object.freeze(defineSerializer({
  name: 'bson',
  serialize(value: unknown): Uint8Array {
    const encoding = new BsonEncoding()
    const bytes = bson.serialize({ v: encoding.toBson(value) }, { checkKeys: false, ignoreUndefined: false })
    if (encoding.hasUndefined) markUndefined(bytes, 0)
    return bytes
  },
  deserialize(value: Uint8Array): unknown {
    const document = bson.deserialize(value, { promoteBuffers: false, promoteValues: true, bsonRegExp: true })
    return fromBson(document.v)
  },
}))
