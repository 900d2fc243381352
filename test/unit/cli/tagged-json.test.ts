import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonToKey, jsonToValue, keyToJson, valueToJson } from '../../../src/cli/tagged-json.js'
import { formatLine, parseLine } from '../../../src/cli/line-format.js'
import { KvU64 } from '../../../src/u64.js'

const throughText = (value: unknown): unknown => jsonToValue(JSON.parse(JSON.stringify(valueToJson(value))))

describe('tagged JSON', () => {
  it('reads back any value made of the types it tags, exactly', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withSparseArray: true,
          withTypedArray: true,
          withObjectString: true,
        }),
        (value) => {
          expect(throughText(value)).toStrictEqual(value)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('writes JSON types as they are and others as tags', () => {
    expect(valueToJson({ a: [1, 'x', true, null] })).toEqual({ a: [1, 'x', true, null] })
    expect(valueToJson(new KvU64(5n))).toEqual({ $$: 'KvU64', v: '5' })
    expect(valueToJson([-0, NaN, 2n, undefined])).toEqual([
      { $$: 'number', v: '-0' },
      { $$: 'number', v: 'NaN' },
      { $$: 'bigint', v: '2' },
      { $$: 'undefined' },
    ])
    expect(valueToJson({ $$: 'x' })).toEqual({ $$: 'object', v: { $$: 'x' } })
    expect(throughText({ $$: 'x', v: 1 })).toEqual({ $$: 'x', v: 1 })
  })

  it('keeps errors, RegExp flags and invalid dates', () => {
    const error = new RangeError('outer', { cause: new Error('inner') })
    const back = throughText(error) as RangeError
    expect(back).toBeInstanceOf(RangeError)
    expect(back.stack).toBe(error.stack)
    expect((back.cause as Error).message).toBe('inner')
    expect(throughText(/a/dgimsuy)).toEqual(/a/dgimsuy)
    expect(Number.isNaN((throughText(new Date(NaN)) as Date).getTime())).toBe(true)
  })

  it('refuses what it cannot write, naming the place', () => {
    const circular: Record<string, unknown> = { a: {} }
    ;(circular.a as Record<string, unknown>).self = circular
    expect(() => valueToJson(circular)).toThrow('cannot write the circular reference at value.a.self')
    expect(() => valueToJson({ f: () => 1 })).toThrow('cannot write a function at value.f')
    expect(() => valueToJson(new URL('https://example.com'))).toThrow(/cannot write a URL at value/)
  })

  it('refuses unknown and malformed tags', () => {
    expect(() => jsonToValue({ $$: 'Nope', v: 1 })).toThrow('unknown tag "Nope" at value')
    expect(() => jsonToValue({ a: { $$: 'bigint', v: '1e3' } })).toThrow('malformed "bigint" tag at value.a')
    expect(() => jsonToValue({ $$: 'Uint8Array', v: 'not base64!' })).toThrow('malformed "Uint8Array" tag')
    expect(() => jsonToValue({ $$: 'Float64Array', v: 'AAE=' })).toThrow('malformed "Float64Array" tag')
    expect(() => jsonToValue({ $$: 'bigint', v: '1', extra: 1 })).toThrow(/unknown or malformed tag/)
  })

  it('writes keys as arrays, bigints and bytes tagged, and reads them back', () => {
    const key = ['a', 1, -0, true, 5n, new Uint8Array([0, 255])]
    expect(keyToJson(key)).toEqual(['a', 1, { $$: 'number', v: '-0' }, true, { $$: 'bigint', v: '5' }, { $$: 'Uint8Array', v: 'AP8=' }])
    expect(jsonToKey(JSON.parse(JSON.stringify(keyToJson(key))))).toStrictEqual(key)
    expect(() => jsonToKey(['a', { b: 1 }])).toThrow('key[1] must be a string, number, boolean, bigint or bytes: received an object')
  })
})

describe('the export line format', () => {
  it('writes key, value and expiresAt in this order, and parses them back', () => {
    const line = formatLine({ key: ['k', 1n], value: new Map([[1, 2]]), expiresAt: Date.UTC(2030, 0, 1) })
    expect(line).toBe('{"key":["k",{"$$":"bigint","v":"1"}],"value":{"$$":"Map","v":[[1,2]]},"expiresAt":"2030-01-01T00:00:00.000Z"}')
    expect(parseLine(line)).toEqual({ key: ['k', 1n], value: new Map([[1, 2]]), expiresAt: Date.UTC(2030, 0, 1) })
    expect(formatLine({ key: ['k'], value: undefined, expiresAt: null })).toBe('{"key":["k"],"value":{"$$":"undefined"}}')
  })

  it('refuses lines that are not exactly the format', () => {
    expect(() => parseLine('[1]')).toThrow('a line must be a JSON object with key and value: received an array')
    expect(() => parseLine('{"key":["a"]}')).toThrow('a line needs a value')
    expect(() => parseLine('{"value":1}')).toThrow('a line needs a key')
    expect(() => parseLine('{"key":["a"],"value":1,"expiresAt":1700000000000}')).toThrow(/expiresAt must be an ISO 8601 UTC time/)
    expect(() => parseLine('{"key":"a","value":1}')).toThrow('key must be a JSON array: received "a"')
  })
})
