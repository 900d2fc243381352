import { describe, expect, it } from 'vitest'
import { jsonSerializer } from '../../../src/serializers/json.js'
import { type CaseName, type Expectation, serializerContract } from '../../support/serializer-contract.js'

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
  int16Array: { throws: /cannot store an Int16Array/ },
  dataView: { throws: /cannot store a DataView/ },
  sharedArrayBuffer: { throws: /cannot store a SharedArrayBuffer/ },
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
  sparseArray: { throws: /cannot store an empty array slot at value(\.nested\[0\])?\[1\]/ },
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
  classInstance: { throws: /cannot store a Point/ },
  url: { throws: /cannot store a URL/ },
  boxedString: { throws: /cannot store a String/ },
  error: { throws: /cannot store an Error/ },
  typeErrorWithCause: { throws: /cannot store a TypeError/ },
  customErrorClass: { throws: /cannot store a CustomError/ },
  errorWithExtraProperty: { throws: /cannot store an Error/ },
  errorWithCauseCycle: { throws: /cannot store an Error/ },
  circularObject: { throws: /cannot store a circular reference at value(\.nested\[0\])?\.self$/ },
  circularArray: { throws: /cannot store a circular reference at value(\.nested\[0\])?\[1\]$/ },
}

serializerContract(jsonSerializer, { name: 'json', cases, sixtyKilobyteBinary: 'too large' })

const text = (value: unknown) => Buffer.from(jsonSerializer.serialize(value)).toString('utf8')

describe('json serializer', () => {
  it('writes plain JSON for plain data', () => {
    expect(text({ name: 'Ada', tags: ['a', 'b'], n: 1.5, ok: true, none: null })).toBe(
      '{"name":"Ada","tags":["a","b"],"n":1.5,"ok":true,"none":null}',
    )
  })

  it('writes the types JSON lacks as readable tagged objects', () => {
    expect(text(undefined)).toBe('{"$$":"undefined"}')
    expect(text(-0)).toBe('{"$$":"number","v":"-0"}')
    expect(text(12n)).toBe('{"$$":"bigint","v":"12"}')
    expect(text(new Uint8Array([1, 2, 3]))).toBe('{"$$":"Uint8Array","v":"AQID"}')
    expect(text(Buffer.from([1, 2, 3]))).toBe('{"$$":"Buffer","v":"AQID"}')
    expect(text(new Uint8Array([1, 2, 3]).buffer)).toBe('{"$$":"ArrayBuffer","v":"AQID"}')
    expect(text(new Map([['a', 1]]))).toBe('{"$$":"Map","v":[["a",1]]}')
    expect(text(new Set([1]))).toBe('{"$$":"Set","v":[1]}')
    expect(text(new Date('2023-01-01T00:00:00Z'))).toBe('{"$$":"Date","v":"2023-01-01T00:00:00.000Z"}')
    expect(text(/a+/gi)).toBe('{"$$":"RegExp","v":{"source":"a+","flags":"gi"}}')
  })

  it('escapes a plain object that has a $$ key, so it is never read as a tag', () => {
    expect(text({ $$: 'Map', v: [] })).toBe('{"$$":"object","v":{"$$":"Map","v":[]}}')
    expect(jsonSerializer.deserialize(jsonSerializer.serialize({ $$: 'Map', v: [] }))).toStrictEqual({ $$: 'Map', v: [] })
  })

  it('refuses bytes with an unknown tag', () => {
    expect(() => jsonSerializer.deserialize(Buffer.from('{"$$":"Nope"}'))).toThrow(/unknown tag "Nope"/)
  })

  it('grows binary data by a third (base64): 49,000 bytes fit, 50,000 do not', () => {
    expect(jsonSerializer.serialize(new Uint8Array(49_000)).length).toBeLessThanOrEqual(65_536)
    expect(jsonSerializer.serialize(new Uint8Array(50_000)).length).toBeGreaterThan(65_536)
  })
})
