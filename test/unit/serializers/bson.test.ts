import { Binary, BSONRegExp, deserialize, Long, ObjectId } from 'bson'
import { describe, expect, it } from 'vitest'
import { bsonSerializer } from '../../../src/serializers/bson.js'
import { type CaseName, type Expectation, serializerContract } from '../../support/serializer-contract.js'

const THROWS = 'throws' as const
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
  bigint: { throws: /cannot store 9007199254740993n/ },
  negativeBigint: { throws: /cannot store -42n/ },
  bigintBeyond64Bits: THROWS,
  null: KEPT,
  undefined: KEPT,
  uint8Array: KEPT,
  emptyUint8Array: KEPT,
  uint8ArrayView: KEPT,
  buffer: KEPT,
  arrayBuffer: KEPT,
  int16Array: { throws: /cannot store an Int16Array/ },
  dataView: { throws: /cannot store a DataView/ },
  sharedArrayBuffer: { throws: /cannot store a SharedArrayBuffer/ },
  object: KEPT,
  emptyObject: KEPT,
  nestedObject: KEPT,
  objectWithUndefined: KEPT,
  objectWithTagLikeKeys: KEPT,
  objectWithProtoKey: KEPT,
  objectWithNulInKey: { throws: /cannot store a property name with a NUL character/ },
  objectWithBsontypeKey: { throws: /cannot store a property named "_bsontype"/ },
  nullPrototypeObject: { convertedTo: { a: 1 } },
  array: KEPT,
  emptyArray: KEPT,
  arrayWithUndefined: KEPT,
  sparseArray: { throws: /cannot store an empty array slot/ },
  symbolKeyedProperty: { throws: /cannot store a property keyed by Symbol\(tag\)( at value\.nested\[0\])?: symbol-keyed properties are not stored$/ },
  arrayWithSymbolKey: { throws: /cannot store a property keyed by Symbol\(tag\)/ },
  arrayWithExtraProperty: { convertedTo: [1, 2] },
  sharedReference: KEPT,
  map: { throws: /cannot store a Map/ },
  mapWithNonStringKeys: { throws: /cannot store a Map/ },
  emptyMap: { throws: /cannot store a Map/ },
  set: { throws: /cannot store a Set/ },
  emptySet: { throws: /cannot store a Set/ },
  date: KEPT,
  dateWithMilliseconds: KEPT,
  dateBefore1970: KEPT,
  farFutureDate: KEPT,
  invalidDate: { throws: /cannot store an invalid Date/ },
  regexp: KEPT,
  regexpFlagsIMSU: KEPT,
  regexpGlobal: { throws: /cannot store a RegExp.*: BSON has no flag g/ },
  regexpSticky: { throws: /cannot store a RegExp.*: BSON has no flag y/ },
  docsNestedCombination: { throws: /cannot store a Set at value(\.nested\[0\])?\.profile\.preferences\.tags/ },
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

serializerContract(bsonSerializer, { name: 'bson', cases, sixtyKilobyteBinary: 'fits' })

/** The stored document as any BSON reader sees it. */
const stored = (value: unknown) =>
  deserialize(bsonSerializer.serialize(value), { promoteBuffers: false, bsonRegExp: true }) as { v: unknown }

describe('bson serializer', () => {
  it('writes one BSON document { v: value } that any BSON reader can read', () => {
    expect(stored({ name: 'Ada', n: 1.5, tags: ['a'], at: new Date(0) })).toStrictEqual({
      v: { name: 'Ada', n: 1.5, tags: ['a'], at: new Date(0) },
    })
  })

  it('writes undefined as the BSON undefined type (0x06), not as null', () => {
    const bytes = bsonSerializer.serialize({ a: undefined })
    // document: int32 size, then { v: document { a: undefined } }
    expect(bytes[4]).toBe(0x03)
    expect(bytes[11]).toBe(0x06)
    expect(bytes[12]).toBe('a'.charCodeAt(0))
    expect(stored([undefined, null])).toStrictEqual({ v: [undefined, null] })
  })

  it('keeps undefined next to every other element type it writes', () => {
    const value = {
      d: 1.5, s: 'str', o: { u: undefined }, a: [undefined], b: new Uint8Array([1]), t: true, dt: new Date(5), n: null,
      r: /x/i, i: 7, big: 2 ** 53, neg: -(2 ** 40), u: undefined,
    }
    expect(bsonSerializer.deserialize(bsonSerializer.serialize(value))).toStrictEqual(value)
  })

  it('writes binary data with a subtype for each class: Uint8Array 0, ArrayBuffer 0x80, Buffer 0x81', () => {
    const { v } = stored([new Uint8Array([1]), new Uint8Array([2]).buffer, Buffer.from([3])]) as { v: Binary[] }
    expect(v.map((binary) => binary.sub_type)).toEqual([0x00, 0x80, 0x81])
    expect(v.map((binary) => [...binary.buffer.subarray(0, binary.position)])).toEqual([[1], [2], [3]])
  })

  it('writes a RegExp as a BSON regex with its flags in BSON order', () => {
    const { v } = stored(/a.b/usmi) as { v: BSONRegExp }
    expect(v).toBeInstanceOf(BSONRegExp)
    expect(v.pattern).toBe('a.b')
    expect(v.options).toBe('imsu')
  })

  it('refuses bytes with a binary subtype it did not write', () => {
    const foreign = new Uint8Array(Buffer.from(bsonSerializer.serialize(new Uint8Array([1]))))
    foreign[foreign.length - 3] = 0x04 // the subtype byte: 0x04 is a UUID
    expect(() => bsonSerializer.deserialize(foreign)).toThrow(/unknown subtype 0x4/)
  })

  it("refuses bson's own classes, which are class instances like any other", () => {
    expect(() => bsonSerializer.serialize({ id: new ObjectId() })).toThrow('the bson serializer cannot store an ObjectId at value.id')
    expect(() => bsonSerializer.serialize(Long.fromNumber(1))).toThrow('the bson serializer cannot store a Long')
  })

  it('refuses a property named _bsontype, which bson reads as a type marker', () => {
    expect(() => bsonSerializer.serialize({ _bsontype: 'ObjectId' })).toThrow(/property named "_bsontype"/)
  })
})
