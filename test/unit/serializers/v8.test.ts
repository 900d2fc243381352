import { deserialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { v8Serializer } from '../../../src/serializers/v8.js'
import { type CaseName, type Expectation, serializerContract } from '../../support/serializer-contract.js'

const THROWS = 'throws' as const
const KEPT = 'kept' as const

const cases: Record<CaseName, Expectation> = {
  string: KEPT,
  emptyString: KEPT,
  unicodeString: KEPT,
  stringWithNul: KEPT,
  loneSurrogate: KEPT,
  integer: KEPT,
  float: KEPT,
  negativeNumber: KEPT,
  largeInteger: KEPT,
  negativeZero: KEPT,
  nan: KEPT,
  infinity: KEPT,
  negativeInfinity: KEPT,
  true: KEPT,
  false: KEPT,
  bigint: KEPT,
  negativeBigint: KEPT,
  bigintBeyond64Bits: KEPT,
  null: KEPT,
  undefined: KEPT,
  uint8Array: KEPT,
  emptyUint8Array: KEPT,
  uint8ArrayView: KEPT,
  buffer: KEPT,
  arrayBuffer: KEPT,
  int16Array: KEPT,
  dataView: KEPT,
  sharedArrayBuffer: THROWS,
  object: KEPT,
  emptyObject: KEPT,
  nestedObject: KEPT,
  objectWithUndefined: KEPT,
  objectWithTagLikeKeys: KEPT,
  objectWithProtoKey: KEPT,
  objectWithNulInKey: KEPT,
  objectWithBsontypeKey: KEPT,
  nullPrototypeObject: { convertedTo: { a: 1 } },
  array: KEPT,
  emptyArray: KEPT,
  arrayWithUndefined: KEPT,
  sparseArray: KEPT,
  symbolKeyedProperty: { throws: /cannot store a property keyed by Symbol\(tag\)( at value\.nested\[0\])?: symbol-keyed properties are not stored$/ },
  arrayWithSymbolKey: { throws: /cannot store a property keyed by Symbol\(tag\)/ },
  arrayWithExtraProperty: KEPT,
  sharedReference: KEPT,
  map: KEPT,
  mapWithNonStringKeys: KEPT,
  emptyMap: KEPT,
  set: KEPT,
  emptySet: KEPT,
  date: KEPT,
  dateWithMilliseconds: KEPT,
  dateBefore1970: KEPT,
  farFutureDate: KEPT,
  invalidDate: KEPT,
  regexp: KEPT,
  regexpFlagsIMSU: KEPT,
  regexpGlobal: KEPT,
  regexpSticky: KEPT,
  docsNestedCombination: KEPT,
  function: { throws: /cannot store a function/ },
  nestedFunction: { throws: /cannot store a function at value(\.nested\[0\])?\.callback$/ },
  symbol: { throws: /cannot store a symbol/ },
  weakMap: { throws: /cannot store a WeakMap/ },
  weakSet: { throws: /cannot store a WeakSet/ },
  weakRef: { throws: /cannot store a WeakRef/ },
  promise: { throws: /cannot store a Promise/ },
  classInstance: { throws: /cannot store a Point(.*): it would be read back as a plain object/ },
  url: { throws: /cannot store a URL/ },
  boxedString: KEPT,
  error: KEPT,
  typeErrorWithCause: KEPT,
  customErrorClass: { throws: /cannot store a CustomError/ },
  errorWithExtraProperty: { throws: /its property "code" would be lost/ },
  errorWithCauseCycle: { throws: /cannot store an Error .*cause leads back to it/ },
  circularObject: KEPT,
  circularArray: KEPT,
}

serializerContract(v8Serializer, { name: 'v8', cases, sixtyKilobyteBinary: 'fits' })

describe('v8 serializer', () => {
  it('writes node:v8 bytes, readable with v8.deserialize', () => {
    const value = { a: [1, 'two', new Map([[3n, new Set([4])]])] }
    expect(deserialize(v8Serializer.serialize(value))).toStrictEqual(value)
  })

  it('keeps object identity: circular and shared references point to the same object again', () => {
    const shared = { n: 1 }
    const value: Record<string, unknown> = { a: shared, b: shared }
    value.self = value
    const back = v8Serializer.deserialize(v8Serializer.serialize(value)) as typeof value
    expect(back.self).toBe(back)
    expect(back.a).toBe(back.b)
  })

  it('keeps an Error whose cause holds the object that holds the Error', () => {
    const holder: Record<string, unknown> = {}
    holder.error = new Error('inner', { cause: holder })
    const back = v8Serializer.deserialize(v8Serializer.serialize(holder)) as { error: Error }
    expect(back.error.cause).toBe(back)
  })

  it('refuses an Error whose name was changed, which V8 would read back as another type', () => {
    const error = new RangeError('r')
    error.name = 'Custom'
    expect(() => v8Serializer.serialize(error)).toThrow(/its name "Custom" would be read back as "RangeError"/)
  })

  it('refuses an AggregateError, whose errors V8 would drop', () => {
    expect(() => v8Serializer.serialize(new AggregateError([new Error('a')], 'all'))).toThrow(/cannot store an AggregateError/)
  })

  it('refuses a subclass of a built-in, which would come back as the built-in', () => {
    class Tags extends Set<string> {}
    class Bytes extends Uint8Array {}
    expect(() => v8Serializer.serialize(new Tags())).toThrow(/cannot store a Tags/)
    expect(() => v8Serializer.serialize({ data: new Bytes(2) })).toThrow(/cannot store a Bytes at value\.data/)
  })

  it('names where in the value the part it cannot store sits', () => {
    const value = { users: [{ name: 'a' }, { name: 'b', settings: new Map([['theme', { render: () => 1 }]]) }] }
    expect(() => v8Serializer.serialize(value)).toThrow(
      'the v8 serializer cannot store a function at value.users[1].settings.get("theme").render',
    )
  })
})
