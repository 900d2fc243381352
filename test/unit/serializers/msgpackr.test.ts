import { Packr, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { msgpackrSerializer } from '../../../src/serializers/msgpackr.js'
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
  negativeZero: { throws: /cannot store -0.*: msgpackr writes it as the integer 0/ },
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
  map: { convertedTo: { id: 1, name: 'Jane Doe', roles: ['admin', 'user'] } },
  mapWithNonStringKeys: { throws: /cannot store a Map with the key 1( at value\.nested\[0\])?: a Map is stored as an object, so its keys must be strings/ },
  emptyMap: { convertedTo: {} },
  set: { convertedTo: ['javascript', 'typescript', 'database'] },
  emptySet: { convertedTo: [] },
  date: KEPT,
  dateWithMilliseconds: KEPT,
  dateBefore1970: KEPT,
  farFutureDate: KEPT,
  invalidDate: KEPT,
  regexp: { throws: /cannot store a RegExp/ },
  regexpFlagsIMSU: { throws: /cannot store a RegExp/ },
  regexpGlobal: { throws: /cannot store a RegExp/ },
  regexpSticky: { throws: /cannot store a RegExp/ },
  docsNestedCombination: {
    convertedTo: {
      profile: {
        name: 'Alice Johnson',
        age: 28,
        joined: new Date('2022-03-15'),
        preferences: { theme: 'dark', notifications: true, tags: ['tech', 'programming', 'databases'] },
      },
      posts: [
        {
          id: 1,
          title: 'Getting Started with Valkeyrie',
          published: true,
          tags: ['database', 'tutorial'],
          stats: { views: 1256n, likes: 42n },
        },
        { id: 2, title: 'Advanced Valkeyrie Patterns', published: false, content: new Uint8Array([1, 2, 3]) },
      ],
      activityMap: { lastLogin: new Date('2024-05-01T10:00:00Z'), loginCount: 37n, devices: ['desktop', 'mobile'] },
    },
  },
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

serializerContract(msgpackrSerializer, { name: 'msgpackr', cases, sixtyKilobyteBinary: 'fits' })

describe('msgpackr serializer', () => {
  it('writes standard MessagePack for plain data, readable by any msgpackr unpack', () => {
    const value = { name: 'Ada', n: 1.5, count: 3, tags: ['a', 'b'], ok: true, none: null, at: new Date(1000) }
    expect(unpack(msgpackrSerializer.serialize(value))).toStrictEqual(value)
  })

  it('writes a Map as a MessagePack map and a Set as an array', () => {
    const plain = new Packr({ useRecords: false, mapsAsObjects: true })
    expect(plain.unpack(msgpackrSerializer.serialize({ m: new Map([['a', 1]]), s: new Set([2]) }))).toStrictEqual({
      m: { a: 1 },
      s: [2],
    })
  })

  it('keeps bigint as bigint and numbers as numbers, at every size', () => {
    const value = [0n, 1n, -1n, 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, -(2n ** 200n), 1, 2 ** 32, 2 ** 53, -(2 ** 40), 0.5]
    expect(msgpackrSerializer.deserialize(msgpackrSerializer.serialize(value))).toStrictEqual(value)
  })

  it('gives back a Buffer for a Buffer and a Uint8Array for a Uint8Array, each with its own memory', () => {
    const back = msgpackrSerializer.deserialize(
      msgpackrSerializer.serialize([Buffer.from([1, 2]), new Uint8Array([3, 4])]),
    ) as [Buffer, Uint8Array]
    expect(Buffer.isBuffer(back[0])).toBe(true)
    expect(Object.getPrototypeOf(back[1])).toBe(Uint8Array.prototype)
    expect(back[0].buffer.byteLength).toBe(2)
    expect(back[1].buffer.byteLength).toBe(2)
  })

  it('refuses a Map key that is a string but would lose its meaning as a property name', () => {
    expect(() => msgpackrSerializer.serialize(new Map([['__proto__', 1]]))).toThrow(/property named "__proto__"/)
  })
})
