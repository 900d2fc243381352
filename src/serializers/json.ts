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

function fromJson(json: Json): unknown {
  if (json === null || typeof json !== 'object') return json
  if (Array.isArray(json)) return json.map(fromJson)
  const type = json[TAG]
  if (type === undefined) return fromJsonObject(json)
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
    case 'Buffer':
      return Buffer.from(v as string, 'base64')
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
    case 'object':
      return fromJsonObject(v as { [key: string]: Json })
    default:
      throw new TypeError(`the json serializer found an unknown tag ${JSON.stringify(type)}`)
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
