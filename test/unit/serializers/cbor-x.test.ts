import { decode } from 'cbor-x'
import { describe, expect, it } from 'vitest'
import { cborXSerializer } from '../../../src/serializers/cbor-x.js'
import { type CaseName, type Expectation, serializerContract } from '../../support/serializer-contract.js'

const KEPT = 'kept' as const

const cases: Record<CaseName, Expectation> = {
  string: KEPT,
  emptyString: KEPT,
  unicodeString: KEPT,
  stringWithNul: KEPT,
  loneSurrogate: { throws: /it has a lone surrogate/ },
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
  arrayBuffer: { convertedTo: new Uint8Array([0x12, 0x34, 0x56, 0x78]) },
  int16Array: { throws: /cannot store an Int16Array/ },
  dataView: { throws: /cannot store a DataView/ },
  sharedArrayBuffer: { throws: /cannot store a SharedArrayBuffer/ },
  object: KEPT,
  emptyObject: KEPT,
  nestedObject: KEPT,
  objectWithUndefined: KEPT,
  objectWithTagLikeKeys: KEPT,
  objectWithProtoKey: { throws: /cannot store a property named "__proto__"/ },
  objectWithNulInKey: KEPT,
  objectWithBsontypeKey: KEPT,
  nullPrototypeObject: { convertedTo: { a: 1 } },
  array: KEPT,
  emptyArray: KEPT,
  arrayWithUndefined: KEPT,
  sparseArray: { throws: /cannot store an empty array slot/ },
  symbolKeyedProperty: { throws: /cannot store a property keyed by Symbol\(tag\)( at value\.nested\[0\])?: symbol-keyed properties are not stored$/ },
  arrayWithSymbolKey: { throws: /cannot store a property keyed by Symbol\(tag\)/ },
  arrayWithExtraProperty: { convertedTo: [1, 2] },
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
  regexp: { throws: /cannot store a RegExp/ },
  regexpFlagsIMSU: { throws: /cannot store a RegExp/ },
  regexpGlobal: { throws: /cannot store a RegExp/ },
  regexpSticky: { throws: /cannot store a RegExp/ },
  docsNestedCombination: KEPT,
  function: { throws: /cannot store a function/ },
  nestedFunction: { throws: /cannot store a function at value(\.nested\[0\])?\.callback$/ },
  symbol: { throws: /cannot store a symbol/ },
  weakMap: { throws: /cannot store a WeakMap/ },
  weakSet: { throws: /cannot store a WeakSet/ },
  weakRef: { throws: /cannot store a WeakRef/ },
  promise: { throws: /cannot store a Promise/ },
  classInstance: { throws: /cannot store a Point/ },
  url: { throws: /cannot store a URL/ },
  boxedString: { throws: /cannot store a String/ },
  error: { throws: /cannot store an Error/ },
  typeErrorWithCause: { throws: /cannot store a TypeError/ },
  customErrorClass: { throws: /cannot store a CustomError/ },
  errorWithExtraProperty: { throws: /cannot store an Error/ },
  errorWithCauseCycle: { throws: /cannot store an Error/ },
  circularObject: { throws: /cannot store a circular reference/ },
  circularArray: { throws: /cannot store a circular reference/ },
}

serializerContract(cborXSerializer, { name: 'cbor-x', cases, sixtyKilobyteBinary: 'fits' })

const bytes = (value: unknown) => Buffer.from(cborXSerializer.serialize(value))

describe('cbor-x serializer', () => {
  it('writes standard CBOR for plain data: a map with text keys, readable by any cbor-x decode', () => {
    const value = { name: 'Ada', n: 1.5, count: 3, tags: ['a', 'b'], ok: true, none: null }
    expect(bytes(value)[0]).toBe(0xa6) // a map of 6 pairs
    expect(decode(bytes(value))).toStrictEqual(value)
  })

  it('marks a Set with tag 258, a Map with tag 259 and a Uint8Array with tag 64', () => {
    expect([...bytes(new Set([1])).subarray(0, 3)]).toEqual([0xd9, 0x01, 0x02])
    expect([...bytes(new Map([[1, 2]])).subarray(0, 3)]).toEqual([0xd9, 0x01, 0x03])
    expect([...bytes(new Uint8Array([9]))]).toEqual([0xd8, 0x40, 0x41, 0x09])
    expect([...bytes(Buffer.from([9]))]).toEqual([0x41, 0x09])
  })

  it('writes -0 as a float, and the other numbers of that value as floats too', () => {
    expect([...bytes(-0)]).toEqual([0xfb, 0x80, 0, 0, 0, 0, 0, 0, 0])
    expect(cborXSerializer.deserialize(bytes({ a: -0, b: 1 }))).toStrictEqual({ a: -0, b: 1 })
    expect(bytes(0).length).toBe(1)
  })

  it('writes a date as tag 1 (epoch seconds), and a far date as a tag 0 string so no millisecond is lost', () => {
    expect([...bytes(new Date(1000))]).toEqual([0xc1, 0x1a, 0, 0, 0, 1])
    const far = new Date(4410122770178564)
    const text = Buffer.from(far.toISOString())
    expect([...bytes(far)]).toEqual([0xc0, 0x78, text.length, ...text]) // tag 0, a text string of 27 bytes
    expect(decode(bytes(far))).toStrictEqual(far)
  })

  it('keeps every millisecond of dates across the whole range', () => {
    const dates: Date[] = []
    for (let i = 0; i < 2000; i++) dates.push(new Date(Math.round((i / 1000 - 1) * 8.64e15) + (i % 7)))
    expect(cborXSerializer.deserialize(cborXSerializer.serialize(dates))).toStrictEqual(dates)
  })
})
