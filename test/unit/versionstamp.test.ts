import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertCheckVersionstamp, fromVersionstamp, isVersionstamp, toVersionstamp } from '../../src/versionstamp.js'

const MAX = (1n << 80n) - 1n

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to throw')
}

describe('toVersionstamp', () => {
  it('writes the first commit as 00000000000000000001', () => {
    expect(toVersionstamp(1)).toBe('00000000000000000001')
    expect(toVersionstamp(1n)).toBe('00000000000000000001')
  })

  it('writes 20 zero-padded lowercase hex digits', () => {
    expect(toVersionstamp(0)).toBe('00000000000000000000')
    expect(toVersionstamp(255)).toBe('000000000000000000ff')
    expect(toVersionstamp(0xabcdef)).toBe('00000000000000abcdef')
    expect(toVersionstamp(Number.MAX_SAFE_INTEGER)).toBe('0000001fffffffffffff')
    expect(toVersionstamp(1n << 64n)).toBe('00010000000000000000')
    expect(toVersionstamp(MAX)).toBe('ffffffffffffffffffff')
  })

  it('gives the same versionstamp for a number and the equal bigint', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(toVersionstamp(n)).toBe(toVersionstamp(BigInt(n)))
      }),
      { numRuns: 500 },
    )
  })

  it('throws a RangeError for a commit number that 20 hex digits cannot write exactly', () => {
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, -1n, 1n << 80n]) {
      const error = thrown(() => toVersionstamp(bad))
      expect(error).toBeInstanceOf(RangeError)
      expect(error.message).toMatch(/^commit number must be an integer between 0 and 2\^80-1: received /)
    }
  })

  it('property: string order of versionstamps equals numeric order of commits', () => {
    const version = fc.oneof(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: 1n << 20n }))
    fc.assert(
      fc.property(version, version, (a, b) => {
        const sa = toVersionstamp(a)
        const sb = toVersionstamp(b)
        expect(sa).toMatch(/^[0-9a-f]{20}$/)
        expect(sa < sb).toBe(a < b)
        expect(sa === sb).toBe(a === b)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('fromVersionstamp', () => {
  it('reads the commit number back', () => {
    expect(fromVersionstamp('00000000000000000001')).toBe(1n)
    expect(fromVersionstamp('ffffffffffffffffffff')).toBe(MAX)
  })

  it('property: is the inverse of toVersionstamp', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (n) => {
        expect(fromVersionstamp(toVersionstamp(n))).toBe(n)
      }),
      { numRuns: 1000 },
    )
  })

  it('throws a TypeError for a string that is not a versionstamp', () => {
    for (const bad of ['', '1', '0000000000000000000A', '0x000000000000000001', '-0000000000000000001']) {
      const error = thrown(() => fromVersionstamp(bad))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^versionstamp must be 20 lowercase hex digits: received /)
    }
  })
})

describe('isVersionstamp', () => {
  it('accepts 20 lowercase hex digits', () => {
    expect(isVersionstamp('00000000000000000001')).toBe(true)
    expect(isVersionstamp('0123456789abcdefabcd')).toBe(true)
  })

  it('rejects wrong lengths, uppercase, non-hex characters and surrounding whitespace', () => {
    for (const bad of [
      '',
      '0000000000000000001',
      '000000000000000000001',
      '0000000000000000000A',
      '0000000000000000000g',
      '000000000000000000-1',
      ' 00000000000000000001',
      '00000000000000000001\n',
      '00000000000000000001 ',
    ]) {
      expect(isVersionstamp(bad), JSON.stringify(bad)).toBe(false)
    }
  })

  it('rejects values that are not strings', () => {
    for (const bad of [null, undefined, 1, 1n, ['00000000000000000001'], { toString: () => '00000000000000000001' }]) {
      expect(isVersionstamp(bad)).toBe(false)
    }
  })
})

describe('assertCheckVersionstamp', () => {
  it('accepts null (the key must not exist) and a well-formed versionstamp', () => {
    expect(() => assertCheckVersionstamp(null)).not.toThrow()
    expect(() => assertCheckVersionstamp('00000000000000000001')).not.toThrow()
  })

  it('throws a TypeError saying what it received for anything else', () => {
    const cases: [unknown, string][] = [
      [undefined, 'undefined'],
      ['0000000000000000000A', '"0000000000000000000A"'],
      ['1', '"1"'],
      [1, '1'],
      [1n, '1n'],
      [{}, 'an object'],
    ]
    for (const [bad, received] of cases) {
      const error = thrown(() => assertCheckVersionstamp(bad))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toBe(`versionstamp must be null or 20 lowercase hex digits: received ${received}`)
    }
  })
})
