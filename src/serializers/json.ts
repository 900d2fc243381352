/**
 * The JSON serializer: readable UTF-8 JSON. Types JSON lacks are written as tagged objects `{"$$": type, "v": data}`:
 *
 * | value | stored as |
 * | --- | --- |
 * | undefined | `{"$$":"undefined"}` |
 * | NaN, ±Infinity, -0 | `{"$$":"number","v":"NaN" / "Infinity" / "-Infinity" / "-0"}` |
 * | bigint | `{"$$":"bigint","v":"123"}` |
 * | Uint8Array | `{"$$":"Uint8Array","v":base64}` |
 * | ArrayBuffer | `{"$$":"ArrayBuffer","v":base64}` |
 * | Map | `{"$$":"Map","v":[[key, value], ...]}` |
 * | Set | `{"$$":"Set","v":[value, ...]}` |
 * | Date | `{"$$":"Date","v":ISO string}` (null for an invalid date) |
 * | RegExp | `{"$$":"RegExp","v":{"source":..., "flags":...}}` |
 * | a plain object that has a `$$` key | `{"$$":"object","v":{...}}` (escaped so it is never read as a tag) |
 *
 * Anything else that JSON would drop or change (functions, symbols, class instances, other typed arrays, Error,
 * WeakMap, circular references) throws `TypeError`. A top-level KvU64 never reaches a serializer (see value.ts).
 */
import { describeValue } from '../errors.js'
import { defineSerializer } from './serializer.js'

const TAG = '$$'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const tagged = (type: string, v?: Json): Json => (v === undefined ? { [TAG]: type } : { [TAG]: type, v })

function fail(value: unknown, why = ''): never {
  throw new TypeError(`the json serializer cannot store ${describeValue(value)}${why}`)
}

/** Assigns an own property, even one named `__proto__`, which plain assignment would turn into a prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function toJson(value: unknown, seen: Set<object>): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      return tagged('number', Object.is(value, -0) ? '-0' : String(value))
    case 'bigint':
      return tagged('bigint', value.toString())
    case 'undefined':
      return tagged('undefined')
    case 'object':
      if (value === null) return null
      break
    default:
      fail(value)
  }
  if (seen.has(value)) fail(value, ' with a circular reference')
  seen.add(value)
  try {
    return objectToJson(value, seen)
  } finally {
    seen.delete(value)
  }
}

function objectToJson(value: object, seen: Set<object>): Json {
  if (Array.isArray(value)) {
    const out: Json[] = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = toJson(value[i], seen)
    return out
  }
  if (isPlainObject(value)) {
    const out: { [key: string]: Json } = {}
    for (const key of Object.keys(value)) setOwn(out, key, toJson((value as Record<string, unknown>)[key], seen))
    return TAG in out ? tagged('object', out) : out
  }
  if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    return tagged('Uint8Array', Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'))
  }
  if (Buffer.isBuffer(value)) return tagged('Uint8Array', value.toString('base64'))
  if (value instanceof ArrayBuffer) return tagged('ArrayBuffer', Buffer.from(value).toString('base64'))
  if (value instanceof Date) return tagged('Date', Number.isNaN(value.getTime()) ? null : value.toISOString())
  if (value instanceof RegExp) return tagged('RegExp', { source: value.source, flags: value.flags })
  if (value instanceof Map) {
    const entries: Json[] = []
    for (const [k, v] of value) entries.push([toJson(k, seen), toJson(v, seen)])
    return tagged('Map', entries)
  }
  if (value instanceof Set) {
    const items: Json[] = []
    for (const v of value) items.push(toJson(v, seen))
    return tagged('Set', items)
  }
  return fail(value)
}

function fromJson(json: Json): unknown {
  if (json === null || typeof json !== 'object') return json
  if (Array.isArray(json)) return json.map(fromJson)
  const type = json[TAG]
  if (type === undefined) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(json)) setOwn(out, key, fromJson(json[key] as Json))
    return out
  }
  const v = json.v as Json
  switch (type) {
    case 'undefined':
      return undefined
    case 'number':
      return Number(v)
    case 'bigint':
      return BigInt(v as string)
    case 'Uint8Array':
      return new Uint8Array(Buffer.from(v as string, 'base64'))
    case 'ArrayBuffer': {
      const bytes = Buffer.from(v as string, 'base64')
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    }
    case 'Date':
      return new Date(v === null ? NaN : (v as string))
    case 'RegExp': {
      const { source, flags } = v as { source: string; flags: string }
      return new RegExp(source, flags)
    }
    case 'Map':
      return new Map((v as Json[][]).map(([k, val]) => [fromJson(k as Json), fromJson(val as Json)]))
    case 'Set':
      return new Set((v as Json[]).map(fromJson))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(v as object)) setOwn(out, key, fromJson((v as Record<string, Json>)[key] as Json))
      return out
    }
    default:
      throw new TypeError(`the json serializer found an unknown tag ${JSON.stringify(type)}`)
  }
}

/** Serializes values as readable JSON, keeping the special types listed above. */
export const jsonSerializer = defineSerializer({
  name: 'json',
  serialize(value: unknown): Uint8Array {
    return Buffer.from(JSON.stringify(toJson(value, new Set())), 'utf8')
  },
  deserialize(value: Uint8Array): unknown {
    return fromJson(JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')) as Json)
  },
})
