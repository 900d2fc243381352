import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import DefaultKvU64, { KvU64 } from '../../src/u64.js'

const MAX = (1n << 64n) - 1n

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to throw')
}

describe('KvU64', () => {
  it('holds any bigint from 0 to 2^64-1', () => {
    expect(new KvU64(0n).value).toBe(0n)
    expect(new KvU64(MAX).value).toBe(MAX)
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (n) => {
        expect(new KvU64(n).value).toBe(n)
      }),
      { numRuns: 500 },
    )
  })

  it('throws a TypeError for a value that is not a bigint, saying what it received', () => {
    const cases: [unknown, string][] = [
      [5, '5'],
      ['5', '"5"'],
      [null, 'null'],
      [undefined, 'undefined'],
      [Object(5n), 'a BigInt'],
      [new KvU64(5n), 'a KvU64'],
    ]
    for (const [bad, received] of cases) {
      const error = thrown(() => new KvU64(bad as bigint))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toBe(`KvU64 value must be a bigint: received ${received}`)
    }
  })

  it('throws a RangeError below 0 or above 2^64-1, saying what it received', () => {
    for (const bad of [-1n, MAX + 1n, -(1n << 64n), 1n << 100n]) {
      const error = thrown(() => new KvU64(bad))
      expect(error).toBeInstanceOf(RangeError)
      const hint = bad < 0n ? ' (to decrement a counter, use sum(key, -1n))' : ''
      expect(error.message).toBe(`KvU64 value must be between 0 and 2^64-1${hint}: received ${bad}n`)
    }
  })

  it('property: rejects every bigint outside the range with a RangeError', () => {
    const outside = fc.oneof(fc.bigInt({ max: -1n }), fc.bigInt({ min: MAX + 1n }))
    fc.assert(
      fc.property(outside, (n) => {
        expect(thrown(() => new KvU64(n))).toBeInstanceOf(RangeError)
      }),
      { numRuns: 500 },
    )
  })

  it('returns the bigint from valueOf', () => {
    const u = new KvU64(42n)
    expect(u.valueOf()).toBe(42n)
    expect(u.valueOf() + 1n).toBe(43n)
  })

  it('writes the decimal digits from toString, without an n suffix', () => {
    expect(new KvU64(MAX).toString()).toBe('18446744073709551615')
    expect(`${new KvU64(7n)}`).toBe('7')
  })

  it('serializes to JSON as a decimal string, which keeps every digit', () => {
    expect(new KvU64(MAX).toJSON()).toBe('18446744073709551615')
    expect(JSON.stringify({ count: new KvU64(MAX) })).toBe('{"count":"18446744073709551615"}')
  })

  it('cannot be changed after construction', () => {
    const u = new KvU64(1n)
    expect(Object.isFrozen(u)).toBe(true)
    expect(() => {
      ;(u as { value: bigint }).value = 2n
    }).toThrow(TypeError)
    expect(u.value).toBe(1n)
  })

  it('reports its tag as KvU64', () => {
    expect(Object.prototype.toString.call(new KvU64(1n))).toBe('[object KvU64]')
  })

  it('is also the default export', () => {
    expect(DefaultKvU64).toBe(KvU64)
  })
})
