/**
 * Values and keys as JSON for the command line and the export line format (docs/cli.md). JSON's own types are
 * written as they are; every other type as a tagged object `{"$$": type, "v": data}`, with the tags of the JSON
 * serializer (serializers/json.ts) and a few more for what only V8 keeps:
 *
 * | value | written as |
 * | --- | --- |
 * | undefined | `{"$$":"undefined"}` |
 * | NaN, ±Infinity, -0 | `{"$$":"number","v":"NaN" / "Infinity" / "-Infinity" / "-0"}` |
 * | bigint | `{"$$":"bigint","v":"123"}` |
 * | KvU64 (the whole value only) | `{"$$":"KvU64","v":"123"}` |
 * | Uint8Array, Buffer, ArrayBuffer | `{"$$":"Uint8Array","v":base64}` (and `"Buffer"`, `"ArrayBuffer"`) |
 * | other typed arrays, DataView | `{"$$":"Float64Array","v":base64 of its bytes, little-endian}` (and so on) |
 * | Map | `{"$$":"Map","v":[[key, value], ...]}` |
 * | Set | `{"$$":"Set","v":[value, ...]}` |
 * | Date | `{"$$":"Date","v":ISO string}` (null for an invalid date) |
 * | RegExp | `{"$$":"RegExp","v":{"source":..., "flags":...}}` |
 * | Error, TypeError, ... | `{"$$":"Error","v":{"name":..., "message":..., "stack"?:..., "cause"?:...}}` |
 * | boxed primitive | `{"$$":"Boxed","v":the primitive, tagged as above}` |
 * | a hole in a sparse array | `{"$$":"hole"}` |
 * | a plain object with its own `$$` key | `{"$$":"object","v":{...}}` |
 *
 * A shared reference is written once per place it appears (it reads back as copies); a circular reference cannot
 * be written and is a `TypeError` naming where it is.
 */
import { KvU64 } from '../u64.js'
import type { KvKey, KvKeyPart } from '../types.js'
import { describeValue } from '../errors.js'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const TAG = '$$'

const TYPED_ARRAYS = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const
type TypedArrayName = keyof typeof TYPED_ARRAYS
const TYPED_ARRAY_BY_PROTOTYPE = new Map<object, TypedArrayName>(
  Object.entries(TYPED_ARRAYS).map(([name, type]) => [type.prototype, name as TypedArrayName]),
)
const ERROR_TYPES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
}
const BOXED = new Set<object>([String.prototype, Number.prototype, Boolean.prototype, BigInt.prototype])

const tagged = (type: string, v?: Json): Json => (v === undefined ? { [TAG]: type } : { [TAG]: type, v })
const base64 = (bytes: ArrayBufferView | ArrayBuffer): string =>
  (ArrayBuffer.isView(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes)).toString('base64')

/** Where in a value the writer is, for messages: `value.a[2]`. */
class Path {
  readonly #steps: string[] = []
  constructor(readonly root: string) {}
  push(step: string | number): void {
    this.#steps.push(typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`)
  }
  pop(): void {
    this.#steps.pop()
  }
  toString(): string {
    return this.root + this.#steps.join('')
  }
}

function numberJson(n: number): Json {
  if (Number.isFinite(n) && !Object.is(n, -0)) return n
  return tagged('number', Object.is(n, -0) ? '-0' : String(n))
}

/** The tagged JSON of a value. Throws `TypeError` for what it cannot write (a function, a circular reference). */
export function valueToJson(value: unknown, root = 'value'): Json {
  if (value instanceof KvU64) return tagged('KvU64', value.value.toString())
  return toJson(value, new Path(root), new Set())
}

function toJson(value: unknown, path: Path, open: Set<object>): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return numberJson(value)
    case 'bigint':
      return tagged('bigint', value.toString())
    case 'undefined':
      return tagged('undefined')
    case 'object':
      if (value === null) return null
      break
    default:
      throw new TypeError(`cannot write ${describeValue(value)} at ${path}`)
  }
  if (open.has(value)) throw new TypeError(`cannot write the circular reference at ${path}`)
  open.add(value)
  try {
    return objectToJson(value, path, open)
  } finally {
    open.delete(value)
  }
}

function objectToJson(value: object, path: Path, open: Set<object>): Json {
  const at = (step: string | number, item: unknown): Json => {
    path.push(step)
    try {
      return toJson(item, path, open)
    } finally {
      path.pop()
    }
  }
  const prototype = Object.getPrototypeOf(value) as object | null
  if (prototype === null || prototype === Object.prototype) {
    const out: { [key: string]: Json } = {}
    for (const key of Object.keys(value)) {
      const json = at(key, (value as Record<string, unknown>)[key])
      if (key === '__proto__') Object.defineProperty(out, key, { value: json, enumerable: true, writable: true, configurable: true })
      else out[key] = json
    }
    return Object.hasOwn(out, TAG) ? tagged('object', out) : out
  }
  if (Array.isArray(value)) {
    const out: Json[] = []
    for (let i = 0; i < value.length; i++) out.push(i in value ? at(i, value[i]) : tagged('hole'))
    return out
  }
  if (value instanceof Map && prototype === Map.prototype) {
    let i = 0
    return tagged('Map', [...value].map(([k, v]) => [at(`<Map key ${i}>`, k), at(`<Map value ${i++}>`, v)]))
  }
  if (value instanceof Set && prototype === Set.prototype) {
    let i = 0
    return tagged('Set', [...value].map((item) => at(`<Set item ${i++}>`, item)))
  }
  if (prototype === Date.prototype) {
    const time = (value as Date).getTime()
    return tagged('Date', Number.isNaN(time) ? null : (value as Date).toISOString())
  }
  if (prototype === RegExp.prototype) {
    const { source, flags } = value as RegExp
    return tagged('RegExp', { source, flags })
  }
  if (prototype === Uint8Array.prototype) return tagged('Uint8Array', base64(value as Uint8Array))
  if (prototype === Buffer.prototype) return tagged('Buffer', base64(value as Buffer))
  if (prototype === ArrayBuffer.prototype) return tagged('ArrayBuffer', base64(value as ArrayBuffer))
  if (prototype === DataView.prototype) return tagged('DataView', base64(value as DataView))
  const typed = TYPED_ARRAY_BY_PROTOTYPE.get(prototype)
  if (typed) return tagged(typed, base64(value as ArrayBufferView))
  if (BOXED.has(prototype)) return tagged('Boxed', toJson((value as { valueOf(): unknown }).valueOf(), path, open))
  if (value instanceof Error && ERROR_TYPES[(prototype as Error).name]?.prototype === prototype) {
    const error = value
    const v: { [key: string]: Json } = { name: error.name, message: error.message }
    if (typeof error.stack === 'string') v.stack = error.stack
    if (Object.hasOwn(error, 'cause')) v.cause = at('cause', error.cause)
    return tagged('Error', v)
  }
  throw new TypeError(`cannot write ${describeValue(value)} at ${path}: it has no tag (see docs/cli.md)`)
}

const NUMBER_PAYLOADS = new Set(['NaN', 'Infinity', '-Infinity', '-0'])
const BIGINT_PAYLOAD = /^-?(?:0|[1-9][0-9]*)$/

const isObject = (json: unknown): json is { [key: string]: Json } =>
  typeof json === 'object' && json !== null && !Array.isArray(json)

function bytesOf(type: string, v: Json | undefined, where: string): Buffer {
  if (typeof v !== 'string') throw malformed(type, where)
  const bytes = Buffer.from(v, 'base64')
  if (bytes.toString('base64') !== v) throw malformed(type, where)
  return bytes
}

/** A fresh ArrayBuffer holding exactly `bytes`, aligned for any typed array. */
const arrayBufferOf = (bytes: Buffer): ArrayBuffer => {
  const buffer = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(buffer).set(bytes)
  return buffer
}

const malformed = (type: string, where: string): TypeError => new TypeError(`malformed ${JSON.stringify(type)} tag at ${where}`)

/** The value tagged JSON stands for. Throws `TypeError` naming the place of an unknown or malformed tag. */
export function jsonToValue(json: unknown, root = 'value'): unknown {
  if (isObject(json) && json[TAG] === 'KvU64') {
    const v = json.v
    if (typeof v !== 'string' || !/^(?:0|[1-9][0-9]*)$/.test(v) || Object.keys(json).length !== 2) throw malformed('KvU64', root)
    return new KvU64(BigInt(v))
  }
  return fromJson(json, root)
}

function fromJson(json: unknown, where: string): unknown {
  if (json === null || typeof json !== 'object') return json
  if (Array.isArray(json)) {
    const out: unknown[] = new Array(json.length)
    json.forEach((item, i) => {
      if (isObject(item) && item[TAG] === 'hole' && Object.keys(item).length === 1) return
      out[i] = fromJson(item, `${where}[${i}]`)
    })
    return out
  }
  const object = json as { [key: string]: Json }
  const type = object[TAG]
  if (type === undefined) return plainObject(object, where)
  const v = object.v
  const keys = Object.keys(object).length
  if (typeof type !== 'string' || keys !== (type === 'undefined' || type === 'hole' ? 1 : 2) || (keys === 2 && v === undefined)) {
    throw new TypeError(`unknown or malformed tag ${JSON.stringify(type)} at ${where}`)
  }
  switch (type) {
    case 'undefined':
      return undefined
    case 'number':
      if (typeof v !== 'string' || !NUMBER_PAYLOADS.has(v)) throw malformed(type, where)
      return Number(v)
    case 'bigint':
      if (typeof v !== 'string' || !BIGINT_PAYLOAD.test(v)) throw malformed(type, where)
      return BigInt(v)
    case 'Uint8Array':
      return new Uint8Array(bytesOf(type, v, where))
    case 'Buffer':
      return bytesOf(type, v, where)
    case 'ArrayBuffer':
      return arrayBufferOf(bytesOf(type, v, where))
    case 'DataView':
      return new DataView(arrayBufferOf(bytesOf(type, v, where)))
    case 'Date': {
      if (v === null) return new Date(NaN)
      const date = typeof v === 'string' ? new Date(v) : new Date(NaN)
      if (Number.isNaN(date.getTime()) || date.toISOString() !== v) throw malformed(type, where)
      return date
    }
    case 'RegExp':
      if (!isObject(v) || typeof v.source !== 'string' || typeof v.flags !== 'string' || Object.keys(v).length !== 2) {
        throw malformed(type, where)
      }
      return new RegExp(v.source, v.flags)
    case 'Map':
      if (!Array.isArray(v)) throw malformed(type, where)
      return new Map(
        v.map((pair, i) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw malformed(type, where)
          return [fromJson(pair[0], `${where}<Map key ${i}>`), fromJson(pair[1], `${where}<Map value ${i}>`)] as const
        }),
      )
    case 'Set':
      if (!Array.isArray(v)) throw malformed(type, where)
      return new Set(v.map((item, i) => fromJson(item, `${where}<Set item ${i}>`)))
    case 'Error': {
      const { name, message, stack, cause } = isObject(v) ? v : ({} as { [key: string]: Json })
      const Type = typeof name === 'string' ? ERROR_TYPES[name] : undefined
      if (!isObject(v) || !Type || typeof message !== 'string' || (stack !== undefined && typeof stack !== 'string')) {
        throw malformed(type, where)
      }
      const error = Object.hasOwn(v, 'cause') ? new Type(message, { cause: fromJson(cause, `${where}.cause`) }) : new Type(message)
      if (stack === undefined) delete error.stack
      else error.stack = stack
      return error
    }
    case 'Boxed': {
      const primitive = fromJson(v, where)
      if (typeof primitive === 'object' || typeof primitive === 'undefined' || typeof primitive === 'symbol') throw malformed(type, where)
      return Object(primitive) as object
    }
    case 'object':
      if (!isObject(v) || !Object.hasOwn(v, TAG)) throw malformed(type, where)
      return plainObject(v, where)
    default: {
      const Typed = TYPED_ARRAYS[type as TypedArrayName]
      if (!Typed || !Object.hasOwn(TYPED_ARRAYS, type)) throw new TypeError(`unknown tag ${JSON.stringify(type)} at ${where}`)
      const buffer = arrayBufferOf(bytesOf(type, v, where))
      if (buffer.byteLength % Typed.BYTES_PER_ELEMENT !== 0) throw malformed(type, where)
      return new Typed(buffer)
    }
  }
}

function plainObject(json: { [key: string]: Json }, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(json)) {
    const value = fromJson(json[key], `${where}.${key}`)
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
    else out[key] = value
  }
  return out
}

/** A key as JSON: an array of parts, tagged where JSON has no such type (bigint, bytes, NaN, -0). */
export function keyToJson(key: KvKey): Json[] {
  return key.map((part) => (part instanceof Uint8Array ? tagged('Uint8Array', base64(part)) : (toJson(part, new Path('key'), new Set()) as Json)))
}

/** The key a JSON array stands for. Throws `TypeError` for anything but an array of key parts. */
export function jsonToKey(json: unknown, what = 'key'): KvKey {
  if (!Array.isArray(json)) throw new TypeError(`${what} must be a JSON array: received ${describeValue(json)}`)
  return json.map((part, i) => {
    const value = fromJson(part, `${what}[${i}]`)
    if (value instanceof Uint8Array && !(value instanceof Buffer)) return value
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
      return value as KvKeyPart
    }
    throw new TypeError(`${what}[${i}] must be a string, number, boolean, bigint or bytes: received ${describeValue(value)}`)
  })
}
