/**
 * The JSON serializer: readable UTF-8 JSON. Types JSON lacks are written as tagged objects `{"$$": type, "v": data}`:
 *
 * | value | stored as |
 * | --- | --- |
 * | undefined | `{"$$":"undefined"}` |
 * | NaN, ±Infinity, -0 | `{"$$":"number","v":"NaN" / "Infinity" / "-Infinity" / "-0"}` |
 * | bigint | `{"$$":"bigint","v":"123"}` |
 * | Uint8Array | `{"$$":"Uint8Array","v":base64}` |
 * | Buffer | `{"$$":"Buffer","v":base64}` |
 * | ArrayBuffer | `{"$$":"ArrayBuffer","v":base64}` |
 * | Map | `{"$$":"Map","v":[[key, value], ...]}` |
 * | Set | `{"$$":"Set","v":[value, ...]}` |
 * | Date | `{"$$":"Date","v":ISO string}` (null for an invalid date) |
 * | RegExp | `{"$$":"RegExp","v":{"source":..., "flags":...}}` |
 * | a plain object that has a `$$` key | `{"$$":"object","v":{...}}` (escaped so it is never read as a tag) |
 *
 * Anything else that JSON would drop or change (functions, symbols, class instances, other typed arrays, Error,
 * WeakMap, sparse arrays, circular references) throws `TypeError`. A top-level KvU64 never reaches a serializer
 * (see value.ts).
 */
import { defineSerializer, refusesNestedU64 } from './serializer.js'
import { kindOf, mapKeyStep, mapValueStep, setOwn, setStep, ValueWalk } from './value-walk.js'

const TAG = '$$'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const tagged = (type: string, v?: Json): Json => (v === undefined ? { [TAG]: type } : { [TAG]: type, v })

const base64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/** The JSON for a value; plain objects and arrays that need no tag anywhere inside are returned as they are. */
function toJson(value: unknown, walk: ValueWalk): Json {
  switch (kindOf(value)) {
    case 'string':
    case 'boolean':
    case 'null':
      return value as Json
    case 'number': {
      const n = value as number
      if (Number.isFinite(n) && !Object.is(n, -0)) return n
      return tagged('number', Object.is(n, -0) ? '-0' : String(n))
    }
    case 'bigint':
      return tagged('bigint', (value as bigint).toString())
    case 'undefined':
      return tagged('undefined')
    case 'array':
      return walk.array(value as unknown[], (item) => toJson(item, walk)) as Json[]
    case 'object': {
      const out = walk.object(value as object, (item) => toJson(item, walk)) as { [key: string]: Json }
      return Object.hasOwn(out, TAG) ? tagged('object', out) : out
    }
    case 'Uint8Array':
      return tagged('Uint8Array', base64(value as Uint8Array))
    case 'Buffer':
      return tagged('Buffer', base64(value as Buffer))
    case 'ArrayBuffer':
      return tagged('ArrayBuffer', Buffer.from(value as ArrayBuffer).toString('base64'))
    case 'Date': {
      const date = value as Date
      return tagged('Date', Number.isNaN(date.getTime()) ? null : date.toISOString())
    }
    case 'RegExp': {
      const { source, flags } = value as RegExp
      return tagged('RegExp', { source, flags })
    }
    case 'Map': {
      const map = value as Map<unknown, unknown>
      walk.open(map)
      const entries: Json[] = []
      let i = 0
      for (const [k, v] of map) {
        entries.push([walk.at(mapKeyStep(i++), () => toJson(k, walk)), walk.at(mapValueStep(k), () => toJson(v, walk))])
      }
      walk.close(map)
      return tagged('Map', entries)
    }
    case 'Set': {
      const set = value as Set<unknown>
      walk.open(set)
      const items: Json[] = []
      let i = 0
      for (const item of set) items.push(walk.at(setStep(i++), () => toJson(item, walk)))
      walk.close(set)
      return tagged('Set', items)
    }
    default:
      return walk.fail(value)
  }
}

// What a tag's payload may be, exactly as toJson writes it. Anything else is a corrupt value: decoding it as it
// came would let a few stored bytes cost unbounded work (Buffer.from({length: 1e9}) allocates a gigabyte).
const NUMBER_PAYLOADS = new Set(['NaN', 'Infinity', '-Infinity', '-0'])
const BIGINT_PAYLOAD = /^-?(?:0|[1-9][0-9]*)$/
const TAGS = new Set(['undefined', 'number', 'bigint', 'Uint8Array', 'Buffer', 'ArrayBuffer', 'Date', 'RegExp', 'Map', 'Set', 'object'])

const malformed = (type: string): never => {
  throw new TypeError(`the json serializer found a malformed ${JSON.stringify(type)} tag`)
}

const isObject = (json: Json | undefined): json is { [key: string]: Json } =>
  typeof json === 'object' && json !== null && !Array.isArray(json)

/** The number of own keys, without allocating them. */
function keyCount(json: { [key: string]: Json }): number {
  let count = 0
  for (const _ in json) count++
  return count
}

/** Bytes from base64, only as `base64()` writes it: anything else is malformed rather than decoded leniently. */
function fromBase64(type: string, v: Json | undefined): Buffer {
  if (typeof v !== 'string') return malformed(type)
  const bytes = Buffer.from(v, 'base64')
  if (bytes.toString('base64') !== v) return malformed(type)
  return bytes
}

function fromJson(json: Json): unknown {
  if (json === null || typeof json !== 'object') return json
  if (Array.isArray(json)) return json.map(fromJson)
  const type = json[TAG]
  if (type === undefined) return fromJsonObject(json)
  if (typeof type !== 'string' || !TAGS.has(type)) {
    throw new TypeError(`the json serializer found an unknown tag ${JSON.stringify(type)}`)
  }
  const v = json.v
  if (keyCount(json) !== (type === 'undefined' ? 1 : 2) || (type !== 'undefined' && v === undefined)) malformed(type)
  switch (type) {
    case 'undefined':
      return undefined
    case 'number':
      if (typeof v !== 'string' || !NUMBER_PAYLOADS.has(v)) malformed(type)
      return Number(v)
    case 'bigint':
      if (typeof v !== 'string' || !BIGINT_PAYLOAD.test(v)) malformed(type)
      return BigInt(v as string)
    case 'Uint8Array':
      return new Uint8Array(fromBase64(type, v))
    case 'Buffer':
      return fromBase64(type, v)
    case 'ArrayBuffer': {
      const bytes = fromBase64(type, v)
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    }
    case 'Date': {
      if (v === null) return new Date(NaN)
      if (typeof v !== 'string') return malformed(type)
      const date = new Date(v)
      if (Number.isNaN(date.getTime()) || date.toISOString() !== v) malformed(type)
      return date
    }
    case 'RegExp': {
      if (!isObject(v) || keyCount(v) !== 2 || typeof v.source !== 'string' || typeof v.flags !== 'string') {
        return malformed(type)
      }
      return new RegExp(v.source, v.flags)
    }
    case 'Map': {
      if (!Array.isArray(v)) return malformed(type)
      const map = new Map<unknown, unknown>()
      for (const entry of v) {
        if (!Array.isArray(entry) || entry.length !== 2) malformed(type)
        const [k, item] = entry as [Json, Json]
        map.set(fromJson(k), fromJson(item))
      }
      return map
    }
    case 'Set':
      if (!Array.isArray(v)) return malformed(type)
      return new Set(v.map(fromJson))
    case 'object':
      if (!isObject(v) || !Object.hasOwn(v, TAG)) return malformed(type)
      return fromJsonObject(v)
    default:
      return malformed(type)
  }
}

function fromJsonObject(json: { [key: string]: Json }): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(json)) setOwn(out, key, fromJson(json[key] as Json))
  return out
}

/** Serializes values as readable JSON, keeping the special types listed above. */
export const jsonSerializer = refusesNestedU64(defineSerializer({
  name: 'json',
  serialize(value: unknown): Uint8Array {
    return Buffer.from(JSON.stringify(toJson(value, new ValueWalk('json'))), 'utf8')
  },
  deserialize(value: Uint8Array): unknown {
    return fromJson(JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')) as Json)
  },
}))
