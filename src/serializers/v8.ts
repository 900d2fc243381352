/**
 * The default serializer: `node:v8` (structured clone), which keeps circular references, shared references, sparse
 * arrays, -0, bigint, Map, Set, Date, RegExp, ArrayBuffer, Buffer, every typed array, DataView, boxed primitives
 * and the built-in Error types.
 *
 * Before serializing, the value is walked to refuse, with a `TypeError`, what structured clone would not give back
 * as it was: a class instance (it comes back a plain object, so a URL comes back `{}`), a subclass of a built-in,
 * an Error of a custom class or with properties beyond message, stack and cause, and an Error whose cause leads
 * back to itself (V8 writes it but cannot read it back). Functions, symbols, WeakMap, WeakSet, SharedArrayBuffer
 * and the like throw too.
 */
import { deserialize, serialize } from 'node:v8'
import { describeValue } from '../errors.js'
import { defineSerializer, refusesNestedU64 } from './serializer.js'
import { enumerableSymbolKey, kindOf, mapKeyStep, mapValueStep, setStep, ValueWalk } from './value-walk.js'

const ERROR_PROTOTYPES = new Set<object>(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map((type) => type.prototype),
)

// Typed arrays, DataView and boxed primitives come back with their own prototype; subclasses of them do not.
const KEPT_PROTOTYPES = new Set<object>([
  ...[Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array]
    .map((type) => type.prototype),
  BigInt64Array.prototype,
  BigUint64Array.prototype,
  DataView.prototype,
  String.prototype,
  Number.prototype,
  Boolean.prototype,
  BigInt.prototype,
])

const ERROR_OWN_KEYS = new Set(['message', 'stack', 'cause', 'name'])

/** Walks a value, throwing for what structured clone would change. Objects are visited once (cycles are fine). */
class V8Check {
  readonly #walk = new ValueWalk('v8')
  readonly #seen = new Set<object>()
  // Errors whose contents are being visited: meeting one of them again means its cause leads back to it.
  readonly #openErrors = new Set<object>()

  visit(value: unknown): void {
    const kind = kindOf(value)
    if (kind === 'symbol' || kind === 'function') this.#walk.fail(value)
    if (typeof value !== 'object' || value === null) return
    if (this.#openErrors.has(value)) this.#walk.fail(value, 'V8 cannot read back an Error whose cause leads back to it')
    if (this.#seen.has(value)) return
    this.#seen.add(value)
    switch (kind) {
      case 'object':
        this.#walk.checkDepth(value)
        this.#walk.checkSymbolKeys(value)
        for (const key of Object.keys(value)) {
          this.#walk.enter(key)
          this.visit((value as Record<string, unknown>)[key])
          this.#walk.leave()
        }
        return
      case 'array': {
        this.#walk.checkDepth(value)
        this.#walk.checkSymbolKeys(value)
        const array = value as unknown[]
        for (let i = 0; i < array.length; i++) {
          this.#walk.enter(i)
          this.visit(array[i])
          this.#walk.leave()
        }
        return
      }
      case 'Map': {
        this.#walk.checkDepth(value)
        let i = 0
        for (const [k, v] of value as Map<unknown, unknown>) {
          this.#walk.at(mapKeyStep(i++), () => this.visit(k))
          this.#walk.at(mapValueStep(k), () => this.visit(v))
        }
        return
      }
      case 'Set': {
        this.#walk.checkDepth(value)
        let i = 0
        for (const item of value as Set<unknown>) this.#walk.at(setStep(i++), () => this.visit(item))
        return
      }
      case 'Date':
      case 'RegExp':
      case 'Uint8Array':
      case 'Buffer':
      case 'ArrayBuffer':
        return
      default:
        this.#visitOther(value)
    }
  }

  #visitOther(value: object): void {
    const prototype = Object.getPrototypeOf(value) as object | null
    if (prototype !== null && KEPT_PROTOTYPES.has(prototype)) return
    if (prototype === null || !ERROR_PROTOTYPES.has(prototype)) this.#walk.fail(value, 'it would be read back as a plain object or not at all')
    const error = value as Error
    // V8 rebuilds an Error from its name, message, stack and cause only.
    const expectedName = (prototype as Error).name
    if (error.name !== expectedName) {
      this.#walk.fail(value, `its name ${describeValue(error.name)} would be read back as ${JSON.stringify(expectedName)}`)
    }
    for (const key of Object.getOwnPropertyNames(error)) {
      if (!ERROR_OWN_KEYS.has(key)) this.#walk.fail(value, `its property ${JSON.stringify(key)} would be lost`)
    }
    for (const key of ['message', 'stack'] as const) {
      if (Object.hasOwn(error, key) && typeof error[key] !== 'string') {
        this.#walk.fail(value, `its ${key} is not a string`)
      }
    }
    if (Object.hasOwn(error, 'cause')) {
      this.#walk.checkDepth(value)
      this.#openErrors.add(error)
      this.#walk.at('cause', () => this.visit(error.cause))
      this.#openErrors.delete(error)
    }
  }
}

/** Whether a value is a primitive structured clone keeps (anything but a symbol or a function). */
const isKeptPrimitive = (value: unknown): boolean =>
  (typeof value !== 'object' || value === null) && typeof value !== 'symbol' && typeof value !== 'function'

/**
 * The common case, checked without allocating: a kept primitive, or a plain object or array whose values all are.
 * Anything else gets the full walk.
 */
function isFlatPlainValue(value: unknown): boolean {
  if (isKeptPrimitive(value)) return true
  const prototype = Object.getPrototypeOf(value) as object | null
  if (prototype !== Array.prototype && prototype !== Object.prototype) return false
  // Symbol-keyed properties, which V8 drops, send the value to the walk that refuses them.
  if (enumerableSymbolKey(value as object) !== undefined) return false
  if (prototype === Array.prototype) return (value as unknown[]).every(isKeptPrimitive)
  for (const key in value as object) if (!isKeptPrimitive((value as Record<string, unknown>)[key])) return false
  return true
}

/** Serializes values with `node:v8` (structured clone), refusing what it would not give back unchanged. */
export const v8Serializer = refusesNestedU64(defineSerializer({
  name: 'v8',
  serialize(value: unknown): Uint8Array {
    if (!isFlatPlainValue(value)) new V8Check().visit(value)
    try {
      return serialize(value)
    } catch (error) {
      // node:v8 throws a DataCloneError (a plain Error) for anything the walk let through that it cannot clone.
      throw new TypeError(`the v8 serializer cannot store ${describeValue(value)}: ${(error as Error).message}`, {
        cause: error,
      })
    }
  },
  deserialize(value: Uint8Array): unknown {
    return deserialize(value)
  },
}))
