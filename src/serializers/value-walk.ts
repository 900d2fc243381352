/**
 * What the serializers share while checking a value before encoding it: which kind each part is, where in the
 * value it sits, and the `TypeError` that names the serializer, the part and its place when it cannot be kept.
 */
import { describeValue } from '../errors.js'
import { MAX_VALUE_DEPTH } from '../limits.js'
import { KvU64 } from '../u64.js'

/** The kinds of value the serializers tell apart. `other` is everything else: class instances, Error, WeakMap, ... */
export type ValueKind =
  | 'undefined'
  | 'null'
  | 'boolean'
  | 'number'
  | 'bigint'
  | 'string'
  | 'symbol'
  | 'function'
  | 'object'
  | 'array'
  | 'Map'
  | 'Set'
  | 'Date'
  | 'RegExp'
  | 'Uint8Array'
  | 'Buffer'
  | 'ArrayBuffer'
  | 'other'

// Kinds go by exact prototype, so a subclass (class MyMap extends Map) is `other`: no serializer gives it back.
const KIND_BY_PROTOTYPE = new Map<object, ValueKind>([
  [Object.prototype, 'object'],
  [Array.prototype, 'array'],
  [Map.prototype, 'Map'],
  [Set.prototype, 'Set'],
  [Date.prototype, 'Date'],
  [RegExp.prototype, 'RegExp'],
  [Uint8Array.prototype, 'Uint8Array'],
  [Buffer.prototype, 'Buffer'],
  [ArrayBuffer.prototype, 'ArrayBuffer'],
])

/** The kind of a value. An object with a null prototype counts as a plain `object`. */
export function kindOf(value: unknown): ValueKind {
  const type = typeof value
  if (type !== 'object') return type as ValueKind
  if (value === null) return 'null'
  const prototype = Object.getPrototypeOf(value) as object | null
  return prototype === null ? 'object' : (KIND_BY_PROTOTYPE.get(prototype) ?? 'other')
}

const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed

/** Whether a string is valid UTF-16: UTF-8 encoders turn a lone surrogate into U+FFFD. */
export const isWellFormedString = (value: string): boolean => isWellFormed.call(value)

/** Assigns an own property, even one named `__proto__`, which plain assignment would turn into a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** The first enumerable symbol-keyed own property of an object, which no serializer stores. */
export function enumerableSymbolKey(object: object): symbol | undefined {
  const symbols = Object.getOwnPropertySymbols(object)
  for (const symbol of symbols) if (Object.prototype.propertyIsEnumerable.call(object, symbol)) return symbol
  return undefined
}

/** Names a part of a value for a message: `a function`, `an Error`, `a URL`, `-0`, `5n`. */
export function describePart(value: unknown): string {
  if (Object.is(value, -0)) return '-0'
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return describeValue(value)
  const name = (value as object).constructor?.name
  if (!name || name === 'Object') return 'an object'
  return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`
}

/** A step into a value: a property name, an array index, or a Map/Set position. */
type PathStep = string | number | { readonly label: string }

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function formatPath(steps: readonly PathStep[]): string {
  let out = 'value'
  for (const step of steps) {
    if (typeof step === 'number') out += `[${step}]`
    else if (typeof step === 'string') out += IDENTIFIER.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`
    else out += step.label
  }
  return out
}

/**
 * One walk through a value: the path to the current part, the objects open above it (to find circular
 * references), and `fail`, which throws the `TypeError` for the current part. A walk that failed is discarded,
 * so nothing needs unwinding on the way out.
 */
export class ValueWalk {
  readonly #serializer: string
  readonly #path: PathStep[] = []
  readonly #open = new Set<object>()

  constructor(serializer: string) {
    this.#serializer = serializer
  }

  /** Throws `TypeError`: this serializer cannot store `value`, here, optionally saying why. */
  fail(value: unknown, reason?: string, what: string = describePart(value)): never {
    const where = this.#path.length === 0 ? '' : ` at ${formatPath(this.#path)}`
    // A KvU64 reaches a serializer only nested (value.ts stores a top-level one itself): say so plainly.
    if (value instanceof KvU64) throw new TypeError(`KvU64 must be a top-level value: found one nested${where}`)
    throw new TypeError(`the ${this.#serializer} serializer cannot store ${what}${where}${reason ? `: ${reason}` : ''}`)
  }

  /**
   * Throws `RangeError` if the container `value`, at the current place, is nested deeper than MAX_VALUE_DEPTH.
   * Checked before its contents are visited, so the walk itself never recurses deeper than the limit.
   */
  checkDepth(value: unknown): void {
    if (this.#path.length < MAX_VALUE_DEPTH) return
    throw new RangeError(
      `the ${this.#serializer} serializer cannot store a value nested more than ${MAX_VALUE_DEPTH} levels deep: found ${describePart(value)} at ${formatPath(this.#path)}`,
    )
  }

  /** Runs `visit` one step deeper in the value. */
  at<T>(step: PathStep, visit: () => T): T {
    this.#path.push(step)
    const result = visit()
    this.#path.pop()
    return result
  }

  /** Steps into the value (for loops that avoid a closure per step); `leave` steps back out. */
  enter(step: PathStep): void {
    this.#path.push(step)
  }

  leave(): void {
    this.#path.pop()
  }

  /** Throws `TypeError` if the plain object or array `object` has an enumerable symbol-keyed property (it would be lost). */
  checkSymbolKeys(object: object): void {
    const symbol = enumerableSymbolKey(object)
    if (symbol !== undefined) this.fail(object, 'symbol-keyed properties are not stored', `a property keyed by ${String(symbol)}`)
  }

  /**
   * Marks `object` as open while its contents are visited; meeting it again inside itself is a circular reference.
   * Also where the nesting limit is checked.
   */
  open(object: object): void {
    this.checkDepth(object)
    if (this.#open.has(object)) this.fail(object, undefined, 'a circular reference')
    this.#open.add(object)
  }

  close(object: object): void {
    this.#open.delete(object)
  }

  /**
   * Maps the elements of an array. Returns the array itself when `visit` changed none of them, else a copy.
   * A hole in a sparse array fails: every serializer but V8 would read it back as `undefined` or `null`. So does a
   * symbol-keyed property. Other properties beyond the elements are not looked for (that costs an `Object.keys` of
   * every array) and are dropped, as documented.
   */
  array(array: readonly unknown[], visit: (item: unknown) => unknown): unknown[] {
    this.open(array)
    this.checkSymbolKeys(array)
    let out: unknown[] | undefined
    for (let i = 0; i < array.length; i++) {
      const item = array[i]
      if (item === undefined && !(i in array)) {
        this.at(i, () => this.fail(item, 'a sparse array is read back with undefined in its holes', 'an empty array slot'))
      }
      this.#path.push(i)
      const mapped = visit(item)
      this.#path.pop()
      if (mapped !== item && out === undefined) out = array.slice(0, i)
      if (out !== undefined) out.push(mapped)
    }
    this.close(array)
    return out ?? (array as unknown[])
  }

  /**
   * Maps the own enumerable string-keyed properties of a plain object; an enumerable symbol-keyed one fails. Returns the object itself when `visit`
   * changed none of them, else a copy (with `Object.prototype`, keeping a `__proto__` key as an own property).
   */
  object(object: object, visit: (value: unknown, key: string) => unknown): object {
    this.open(object)
    this.checkSymbolKeys(object)
    const source = object as Record<string, unknown>
    const keys = Object.keys(source)
    let out: Record<string, unknown> | undefined
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      const value = source[key]
      this.#path.push(key)
      const mapped = visit(value, key)
      this.#path.pop()
      if (mapped !== value && out === undefined) {
        out = {}
        for (let j = 0; j < i; j++) setOwn(out, keys[j] as string, source[keys[j] as string])
      }
      if (out !== undefined) setOwn(out, key, mapped)
    }
    this.close(object)
    return out ?? object
  }
}

/** The step naming the key of the `index`-th entry of a Map. */
export const mapKeyStep = (index: number): PathStep => ({ label: `.keys()[${index}]` })
/** The step naming the value stored under `key` in a Map. */
export const mapValueStep = (key: unknown): PathStep => ({
  // Formatted only when a message needs it: most walks never fail.
  get label() {
    return `.get(${describeValue(key)})`
  },
})
/** The step naming the `index`-th element of a Set. */
export const setStep = (index: number): PathStep => ({ label: `.values()[${index}]` })
