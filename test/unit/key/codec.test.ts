import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey } from '../../../src/key/codec.js'
import type { KvKey, KvKeyPart } from '../../../src/types.js'

/** Hex of a key's encoding, space separated, e.g. `02 61 00`. */
const hex = (key: KvKey): string => [...encodeKey(key)].map((b) => b.toString(16).padStart(2, '0')).join(' ')

/** Bytes from a spaced hex string. */
const bytes = (spaced: string): Uint8Array => Uint8Array.from(Buffer.from(spaced.replace(/\s+/g, ''), 'hex'))

/** A double with the given 64 bits (big-endian hex). */
function doubleFromBits(bitsHex: string): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, BigInt('0x' + bitsHex))
  return view.getFloat64(0)
}

/** The error thrown by `fn`, or a failure when it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to throw')
}

/** Exact equality of key parts: type, -0 vs 0, NaN, and Uint8Array (plain, not a subclass) byte for byte. */
function samePart(a: KvKeyPart, b: KvKeyPart): boolean {
  if (a instanceof Uint8Array) {
    return (
      b instanceof Uint8Array &&
      Object.getPrototypeOf(b) === Uint8Array.prototype &&
      a.length === b.length &&
      a.every((byte, i) => byte === b[i])
    )
  }
  return typeof a === typeof b && Object.is(a, b)
}

const sameKey = (a: KvKey, b: KvKey): boolean => a.length === b.length && a.every((part, i) => samePart(part, b[i]!))

/** Reference key order, written from the order SPEC §2 promises rather than from the encoder. */
function rank(part: KvKeyPart): number {
  if (part instanceof Uint8Array) return 0
  switch (typeof part) {
    case 'string':
      return 1
    case 'bigint':
      return 2
    case 'number':
      return 3
    case 'boolean':
      return part ? 5 : 4
  }
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0)

function compareSequences(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  }
  return sign(a.length - b.length)
}

/** Code point order, which equals UTF-8 byte order for well-formed strings. */
const codePoints = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0)!)

/** Numbers in the tuple layer's total order: -Infinity … -0 < 0 … Infinity < NaN (NaN is canonical and positive). */
function compareNumbers(a: number, b: number): number {
  const aNaN = Number.isNaN(a)
  const bNaN = Number.isNaN(b)
  if (aNaN || bNaN) return aNaN && bNaN ? 0 : aNaN ? 1 : -1
  if (a < b) return -1
  if (a > b) return 1
  if (a === 0) {
    const aNeg = Object.is(a, -0)
    const bNeg = Object.is(b, -0)
    return aNeg === bNeg ? 0 : aNeg ? -1 : 1
  }
  return 0
}

function compareParts(a: KvKeyPart, b: KvKeyPart): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return sign(ra - rb)
  if (a instanceof Uint8Array) return compareSequences(a, b as Uint8Array)
  if (typeof a === 'string') return compareSequences(codePoints(a), codePoints(b as string))
  if (typeof a === 'bigint') return a < (b as bigint) ? -1 : a > (b as bigint) ? 1 : 0
  if (typeof a === 'number') return compareNumbers(a, b as number)
  return 0 // booleans of the same rank are equal
}

function compareKeys(a: KvKey, b: KvKey): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const c = compareParts(a[i]!, b[i]!)
    if (c !== 0) return c
  }
  return sign(a.length - b.length)
}

const compareEncoded = (a: KvKey, b: KvKey): number => sign(Buffer.compare(encodeKey(a), encodeKey(b)))

// ---------------------------------------------------------------------------------------------------------------------
// Arbitraries

/** Doubles whose bits are uniformly random: exercises every NaN payload, subnormals, both zeros, both infinities. */
const anyBitsDouble = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((bits) => {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, bits)
  return view.getFloat64(0)
})

const specialNumber = fc.constantFrom(
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1,
  -1,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  doubleFromBits('7ff0000000000001'),
  doubleFromBits('fff8000000000000'),
  doubleFromBits('ffffffffffffffff'),
)

const numberPart = fc.oneof(fc.double(), anyBitsDouble, specialNumber, fc.integer())

const boundaryBigInt = fc.constantFrom(
  0n,
  1n,
  -1n,
  255n,
  256n,
  -255n,
  -256n,
  (1n << 63n) - 1n,
  -(1n << 63n),
  (1n << 64n) - 1n,
  -((1n << 64n) - 1n),
  1n << 64n,
  -(1n << 64n),
  (1n << 64n) + 1n,
  -(1n << 64n) - 1n,
  (1n << 2040n) - 1n,
  -((1n << 2040n) - 1n),
)

const bigintPart = fc.oneof(
  fc.bigInt({ min: -300n, max: 300n }),
  fc.bigInt({ min: -(1n << 72n), max: 1n << 72n }),
  fc.bigInt({ min: -(1n << 2000n), max: 1n << 2000n }),
  // A random magnitude of 1..255 bytes, so every length (short and long form) is reached.
  fc.tuple(fc.integer({ min: 1, max: 2040 }), fc.bigInt({ min: 0n, max: (1n << 2040n) - 1n }), fc.boolean()).map(
    ([bits, r, negative]) => {
      const n = (r % (1n << BigInt(bits))) | (1n << BigInt(bits - 1))
      return negative ? -n : n
    },
  ),
  boundaryBigInt,
)

/** Strings with NUL, non-ASCII, astral characters, and the code points around the UTF-8 length boundaries. */
const stringUnit = fc.oneof(
  fc.constantFrom('\0', '\x01', 'a', '\x7f', '\x80', 'é', '\u07ff', '\u0800', '\uffff', '\u{10000}', '😀', '\u{10ffff}'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)
const stringPart = fc.oneof(fc.string({ unit: stringUnit, maxLength: 12 }), fc.string({ unit: 'binary' }), fc.string())

const bytesPart = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0xfe, 0xff), { maxLength: 8 }).map((a) => Uint8Array.from(a)),
)

const keyPart: fc.Arbitrary<KvKeyPart> = fc.oneof(stringPart, numberPart, bigintPart, fc.boolean(), bytesPart)
const key = fc.array(keyPart, { minLength: 1, maxLength: 6 })

/** Parts from small domains, so that equal parts and shared prefixes are common when comparing keys. */
const narrowPart: fc.Arbitrary<KvKeyPart> = fc.oneof(
  fc.array(fc.constantFrom(0x00, 0x01, 0xfe, 0xff), { maxLength: 3 }).map((a) => Uint8Array.from(a)),
  fc.string({ unit: fc.constantFrom('\0', 'a', 'b', 'é', '\uffff', '\u{10000}', '\u{10ffff}'), maxLength: 3 }),
  fc.oneof(fc.bigInt({ min: -3n, max: 3n }), boundaryBigInt),
  fc.oneof(fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, -1, 1, 0.5), fc.double()),
  fc.boolean(),
)
const narrowKey = fc.array(narrowPart, { minLength: 1, maxLength: 4 })
/** Two keys that often share a prefix of parts. */
const keyPair = fc
  .tuple(
    fc.array(narrowPart, { maxLength: 3 }),
    fc.array(narrowPart, { maxLength: 3 }),
    fc.array(narrowPart, { maxLength: 3 }),
  )
  .filter(([common, a, b]) => common.length + a.length > 0 && common.length + b.length > 0)
  .map(([common, a, b]): [KvKey, KvKey] => [
    [...common, ...a],
    [...common, ...b],
  ])

// ---------------------------------------------------------------------------------------------------------------------

describe('encodeKey: the byte vectors of SPEC §2', () => {
  it('encodes ["hello"] as 02 68 65 6c 6c 6f 00', () => {
    expect(hex(['hello'])).toBe('02 68 65 6c 6c 6f 00')
  })

  it('encodes [-1n] as 13 fe', () => {
    expect(hex([-1n])).toBe('13 fe')
  })

  it('encodes [256n] as 16 01 00', () => {
    expect(hex([256n])).toBe('16 01 00')
  })

  it('encodes [1] as 21 bf f0 00 00 00 00 00 00', () => {
    expect(hex([1])).toBe('21 bf f0 00 00 00 00 00 00')
  })

  it('encodes ["a", 1n, 1, true, a Uint8Array holding one 00 byte] as the SPEC example', () => {
    // SPEC writes the last part as `Uint8Array[0]`: the bytes `01 00 ff 00` are a one-byte array holding 00.
    expect(hex(['a', 1n, 1, true, Uint8Array.of(0)])).toBe(
      '02 61 00 15 01 21 bf f0 00 00 00 00 00 00 27 01 00 ff 00',
    )
  })

  it('encodes an empty Uint8Array (new Uint8Array(0)) as 01 00', () => {
    expect(hex(['a', 1n, 1, true, new Uint8Array(0)])).toBe('02 61 00 15 01 21 bf f0 00 00 00 00 00 00 27 01 00')
  })
})

describe('encodeKey: strings and Uint8Arrays', () => {
  it('encodes the empty string as 02 00', () => {
    expect(hex([''])).toBe('02 00')
  })

  it('escapes a NUL inside a string as 00 ff', () => {
    expect(hex(['a\0b'])).toBe('02 61 00 ff 62 00')
    expect(hex(['\0'])).toBe('02 00 ff 00')
    expect(hex(['\0\0'])).toBe('02 00 ff 00 ff 00')
  })

  it('writes strings as UTF-8, escaping NULs that follow non-ASCII characters', () => {
    expect(hex(['é'])).toBe('02 c3 a9 00')
    expect(hex(['aé\0'])).toBe('02 61 c3 a9 00 ff 00')
    expect(hex(['\u0800'])).toBe('02 e0 a0 80 00')
    expect(hex(['😀'])).toBe('02 f0 9f 98 80 00')
    expect(hex(['\u{10ffff}'])).toBe('02 f4 8f bf bf 00')
  })

  it('escapes 00 bytes in a Uint8Array and leaves ff bytes alone', () => {
    expect(hex([Uint8Array.of(1, 2)])).toBe('01 01 02 00')
    expect(hex([Uint8Array.of(0, 0xff, 0)])).toBe('01 00 ff ff 00 ff 00')
    expect(hex([Uint8Array.of(0xff)])).toBe('01 ff 00')
  })

  it('encodes a Buffer part exactly as the Uint8Array with the same bytes', () => {
    expect(encodeKey([Buffer.from([0, 1, 2])])).toEqual(encodeKey([Uint8Array.of(0, 1, 2)]))
  })

  it('encodes only the bytes a Uint8Array view covers, not its whole buffer', () => {
    const backing = Uint8Array.of(9, 9, 1, 0, 9)
    expect(hex([backing.subarray(2, 4)])).toBe('01 01 00 ff 00')
  })

  it('writes long strings and many parts past the initial buffer size', () => {
    const long = 'x'.repeat(1000) + 'é'
    const encoded = encodeKey([long, Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), ...Array(50).fill(1n)])
    expect(encoded.length).toBe(1 + 1000 + 2 + 1 + 1 + 300 + 2 /* two 00 escapes */ + 1 + 50 * 2)
    expect(encoded.subarray(0, 4).toString('hex')).toBe('02787878')
  })
})

describe('encodeKey: booleans and bigints', () => {
  it('encodes false as 26 and true as 27', () => {
    expect(hex([false])).toBe('26')
    expect(hex([true])).toBe('27')
  })

  it('encodes 0n as the single byte 14', () => {
    expect(hex([0n])).toBe('14')
  })

  it('encodes small bigints with a length tag and big-endian magnitude', () => {
    expect(hex([1n])).toBe('15 01')
    expect(hex([255n])).toBe('15 ff')
    expect(hex([65535n])).toBe('16 ff ff')
    expect(hex([65536n])).toBe('17 01 00 00')
  })

  it('encodes small negative bigints as the one’s complement of the magnitude', () => {
    expect(hex([-255n])).toBe('13 00')
    expect(hex([-256n])).toBe('12 fe ff')
    expect(hex([-65536n])).toBe('11 fe ff ff')
  })

  it('encodes 8-byte bigints with tags 1c and 0c', () => {
    expect(hex([(1n << 64n) - 1n])).toBe('1c ff ff ff ff ff ff ff ff')
    expect(hex([1n << 56n])).toBe('1c 01 00 00 00 00 00 00 00')
    expect(hex([-((1n << 64n) - 1n)])).toBe('0c 00 00 00 00 00 00 00 00')
    expect(hex([-(1n << 56n)])).toBe('0c fe ff ff ff ff ff ff ff')
  })

  it('encodes positive bigints of 9 or more bytes as 1d, the length, then the magnitude', () => {
    expect(hex([1n << 64n])).toBe('1d 09 01 00 00 00 00 00 00 00 00')
    expect(hex([(1n << 72n) - 1n])).toBe('1d 09 ff ff ff ff ff ff ff ff ff')
    expect(hex([1n << 72n])).toBe('1d 0a 01 00 00 00 00 00 00 00 00 00')
  })

  it('encodes negative bigints of 9 or more bytes as 0b, the length xor ff, then the complemented magnitude', () => {
    expect(hex([-(1n << 64n)])).toBe('0b f6 fe ff ff ff ff ff ff ff ff')
    expect(hex([-((1n << 72n) - 1n)])).toBe('0b f6 00 00 00 00 00 00 00 00 00')
    expect(hex([-(1n << 72n)])).toBe('0b f5 fe ff ff ff ff ff ff ff ff ff')
  })

  it('accepts bigints of exactly 255 bytes', () => {
    const max = (1n << 2040n) - 1n
    expect(hex([max])).toBe('1d ff' + ' ff'.repeat(255))
    expect(hex([-max])).toBe('0b 00' + ' 00'.repeat(255))
  })

  it('throws a RangeError for a bigint over 255 bytes, naming the part and the size', () => {
    for (const n of [1n << 2040n, -(1n << 2040n), 1n << 3000n]) {
      const error = thrown(() => encodeKey(['a', n]))
      expect(error).toBeInstanceOf(RangeError)
      expect(error.message).toMatch(/^key part 1 /)
      expect(error.message).toMatch(/max 255 bytes/)
    }
    expect(thrown(() => encodeKey([1n << 2040n])).message).toMatch(/received 256 bytes$/)
  })
})

describe('encodeKey: numbers', () => {
  it('encodes 0 and -0 as different keys', () => {
    expect(hex([0])).toBe('21 80 00 00 00 00 00 00 00')
    expect(hex([-0])).toBe('21 7f ff ff ff ff ff ff ff')
  })

  it('flips only the sign bit of positive numbers and inverts every bit of negative ones', () => {
    expect(hex([-1])).toBe('21 40 0f ff ff ff ff ff ff')
    expect(hex([0.5])).toBe('21 bf e0 00 00 00 00 00 00')
    expect(hex([Number.MIN_VALUE])).toBe('21 80 00 00 00 00 00 00 01')
    expect(hex([-Number.MIN_VALUE])).toBe('21 7f ff ff ff ff ff ff fe')
    expect(hex([Number.MAX_VALUE])).toBe('21 ff ef ff ff ff ff ff ff')
  })

  it('encodes Infinity and -Infinity', () => {
    expect(hex([Infinity])).toBe('21 ff f0 00 00 00 00 00 00')
    expect(hex([-Infinity])).toBe('21 00 0f ff ff ff ff ff ff')
  })

  it('encodes NaN as the canonical 7ff8… whatever its bit pattern', () => {
    const canonical = '21 ff f8 00 00 00 00 00 00'
    expect(hex([NaN])).toBe(canonical)
    for (const bits of ['7ff8000000000000', '7ff0000000000001', '7ff4000000000000', 'fff8000000000000', 'ffffffffffffffff']) {
      const nan = doubleFromBits(bits)
      expect(Number.isNaN(nan)).toBe(true)
      expect(hex([nan])).toBe(canonical)
    }
  })

  it('canonicalises NaN for any random NaN payload', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 52n) - 1n }),
        fc.boolean(),
        (payload, negative) => {
          const bits = (negative ? 0xfffn << 52n : 0x7ffn << 52n) | payload
          const nan = doubleFromBits(bits.toString(16).padStart(16, '0'))
          expect(hex([nan])).toBe('21 ff f8 00 00 00 00 00 00')
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('encodeKey: invalid keys', () => {
  it('throws a TypeError when the key is not an array', () => {
    for (const bad of ['a', 1, null, undefined, { 0: 'a', length: 1 }, new Uint8Array(1)]) {
      const error = thrown(() => encodeKey(bad as unknown as KvKey))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^key must be an array of key parts: received /)
    }
  })

  it('throws a TypeError for an empty key', () => {
    const error = thrown(() => encodeKey([]))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('key must have at least one part')
  })

  it('encodes an empty array to no bytes when allowEmpty is set (a list prefix)', () => {
    expect(encodeKey([], { allowEmpty: true }).length).toBe(0)
  })

  it('names the operation in shape errors when given', () => {
    expect(thrown(() => encodeKey([], { what: 'list start' })).message).toBe('list start must have at least one part')
  })

  const badParts: [string, unknown, RegExp][] = [
    ['null', null, /received null$/],
    ['undefined', undefined, /received undefined$/],
    ['a plain object', { a: 1 }, /received an object$/],
    ['a Date', new Date(0), /received a Date$/],
    ['an ArrayBuffer', new ArrayBuffer(2), /received a ArrayBuffer$/],
    ['a nested array', ['a'], /received an array$/],
    ['a symbol', Symbol('s'), /received a symbol$/],
    ['a function', () => 1, /received a function$/],
    ['another typed array', Int8Array.of(1), /received a Int8Array$/],
    ['a boxed string', Object('a'), /received a String$/],
  ]
  for (const [name, part, received] of badParts) {
    it(`throws a TypeError naming the part index for ${name}`, () => {
      const error = thrown(() => encodeKey(['ok', 1, part as KvKeyPart]))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^key part 2 must be a string, number, bigint, boolean or Uint8Array: /)
      expect(error.message).toMatch(received)
    })
  }

  it('throws a TypeError for a hole in a sparse key', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = ['a', , 'c'] as unknown as KvKey
    expect(thrown(() => encodeKey(sparse)).message).toMatch(/^key part 1 .*received undefined$/)
  })

  it('throws a TypeError for a string with a lone surrogate, which UTF-8 cannot carry', () => {
    for (const s of ['\ud800', 'a\udc00', '\udc00\ud800', 'é\ud83d', '\ud83d\ud83d\ude00\udc00']) {
      const error = thrown(() => encodeKey(['ok', s]))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^key part 1 must be a well-formed string/)
    }
  })

  it('accepts a correctly paired surrogate (an astral character)', () => {
    expect(hex(['\ud83d\ude00'])).toBe('02 f0 9f 98 80 00')
  })
})

describe('encodeKey: independence of results', () => {
  it('returns a buffer that later encodings do not overwrite', () => {
    const first = encodeKey(['first', 1.5, 7n])
    const copy = Buffer.from(first)
    encodeKey(['second', -2.5, -7n, 'x'.repeat(500)])
    expect(first.equals(copy)).toBe(true)
  })

  it('does not modify the key it encodes', () => {
    const part = Uint8Array.of(0, 1)
    const key: KvKey = ['a', part, NaN]
    encodeKey(key)
    expect([...part]).toEqual([0, 1])
    expect(key).toHaveLength(3)
  })
})

describe('decodeKey', () => {
  it('decodes every SPEC vector back to its key', () => {
    const cases: [string, KvKey][] = [
      ['02 68 65 6c 6c 6f 00', ['hello']],
      ['13 fe', [-1n]],
      ['16 01 00', [256n]],
      ['21 bf f0 00 00 00 00 00 00', [1]],
      ['02 61 00 15 01 21 bf f0 00 00 00 00 00 00 27 01 00 ff 00', ['a', 1n, 1, true, Uint8Array.of(0)]],
    ]
    for (const [spaced, key] of cases) expect(sameKey(decodeKey(bytes(spaced)), key)).toBe(true)
  })

  it('decodes -0 as -0 and 0 as 0', () => {
    const [negative] = decodeKey(encodeKey([-0]))
    const [positive] = decodeKey(encodeKey([0]))
    expect(Object.is(negative, -0)).toBe(true)
    expect(Object.is(positive, 0)).toBe(true)
  })

  it('decodes NaN and the infinities', () => {
    const [nan, inf, negInf] = decodeKey(encodeKey([doubleFromBits('fff8000000000001'), Infinity, -Infinity]))
    expect(Number.isNaN(nan)).toBe(true)
    expect(inf).toBe(Infinity)
    expect(negInf).toBe(-Infinity)
  })

  it('decodes a Uint8Array part as a plain Uint8Array, even when a Buffer was written', () => {
    const [part] = decodeKey(encodeKey([Buffer.from([0, 0xff])]))
    expect(Object.getPrototypeOf(part)).toBe(Uint8Array.prototype)
    expect([...(part as Uint8Array)]).toEqual([0, 0xff])
  })

  it('decodes NUL bytes in strings and Uint8Arrays', () => {
    expect(decodeKey(bytes('02 00 ff 61 00 ff 00'))).toEqual(['\0a\0'])
    expect([...(decodeKey(bytes('01 00 ff 00 ff 00'))[0] as Uint8Array)]).toEqual([0, 0])
  })

  it('does not modify the Buffer it decodes', () => {
    const encoded = encodeKey([-1n, -(1n << 64n), -(1n << 100n), -1.5, -0, 'é\0', Uint8Array.of(0, 0xff)])
    const copy = Buffer.from(encoded)
    const first = decodeKey(encoded)
    expect(encoded.equals(copy)).toBe(true)
    expect(sameKey(decodeKey(encoded), first)).toBe(true)
  })

  it('returns Uint8Array parts that do not share memory with the input', () => {
    const encoded = encodeKey([Uint8Array.of(1, 2, 3)])
    const part = decodeKey(encoded)[0] as Uint8Array
    part[0] = 9
    expect(encoded[1]).toBe(1)
  })

  it('decodes no bytes as no parts', () => {
    expect(decodeKey(new Uint8Array(0))).toEqual([])
  })

  const malformed: [string, string][] = [
    ['an unknown type tag', '00'],
    ['another unknown type tag', 'ff'],
    ['a string without its terminator', '02 61 62'],
    ['a Uint8Array ending inside an escape', '01 00 ff'],
    ['a truncated number', '21 80 00 00'],
    ['a truncated short bigint', '16 01'],
    ['a long bigint without its length', '1d'],
    ['a truncated long bigint', '1d 09 01 00'],
    ['a truncated negative long bigint', '0b f6 fe'],
    ['a string part that is not valid UTF-8', '02 ff fe 00'],
    ['a string part holding an encoded surrogate', '02 ed a0 80 00'],
    ['an overlong UTF-8 NUL', '02 c0 80 00'],
  ]
  for (const [name, spaced] of malformed) {
    it(`throws a TypeError for ${name}`, () => {
      const error = thrown(() => decodeKey(bytes(spaced)))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^invalid encoded key: .* at byte \d+$/)
    })
  }

  it('names the unknown tag and its position', () => {
    expect(thrown(() => decodeKey(bytes('15 01 30'))).message).toBe('invalid encoded key: unknown type tag 0x30 at byte 2')
  })
})

describe('property: decode(encode(key)) is the key', () => {
  it('round-trips every kind of part exactly', () => {
    fc.assert(
      fc.property(key, (k) => {
        const decoded = decodeKey(encodeKey(k))
        // NaN of any bit pattern decodes as NaN, which Object.is treats as equal.
        expect(sameKey(decoded, k)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('round-trips keys whose parts are all huge bigints', () => {
    fc.assert(
      fc.property(fc.array(bigintPart, { minLength: 1, maxLength: 8 }), (k) => {
        expect(sameKey(decodeKey(encodeKey(k)), k)).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('decodes arbitrary bytes to a key or throws a TypeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (random) => {
        let decoded: KvKeyPart[]
        try {
          decoded = decodeKey(random)
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError)
          return
        }
        // Whatever decodes must encode again without error (possibly to other bytes when the input was not canonical).
        if (decoded.length > 0) expect(() => encodeKey(decoded)).not.toThrow()
      }),
      { numRuns: 2000 },
    )
  })

  it('gives different keys different bytes', () => {
    fc.assert(
      fc.property(keyPair, ([a, b]) => {
        expect(encodeKey(a).equals(encodeKey(b))).toBe(compareKeys(a, b) === 0)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('key order equals byte order', () => {
  it('sorts a table of representative keys in the order SPEC §2 promises', () => {
    const ordered: KvKey[] = [
      [new Uint8Array(0)],
      [Uint8Array.of(0)],
      [Uint8Array.of(0, 0)],
      [Uint8Array.of(0, 1)],
      [Uint8Array.of(1)],
      [Uint8Array.of(0xff)],
      [Uint8Array.of(0xff, 0)],
      [''],
      ['', 'x'],
      ['\0'],
      ['\0\0'],
      ['a'],
      ['a', new Uint8Array(0)],
      ['a', 'b'],
      ['a', true],
      ['a\0'],
      ['a\0', 'b'],
      ['aa'],
      ['b'],
      ['é'],
      ['\uffff'],
      ['\u{10000}'],
      ['\u{10ffff}'],
      [-((1n << 2040n) - 1n)],
      [-(1n << 72n)],
      [-(1n << 64n) - 1n],
      [-(1n << 64n)],
      [-((1n << 64n) - 1n)],
      [-256n],
      [-255n],
      [-2n],
      [-1n],
      [0n],
      [1n],
      [2n],
      [255n],
      [256n],
      [(1n << 64n) - 1n],
      [1n << 64n],
      [(1n << 64n) + 1n],
      [1n << 72n],
      [(1n << 2040n) - 1n],
      [-Infinity],
      [-Number.MAX_VALUE],
      [-1],
      [-Number.MIN_VALUE],
      [-0],
      [0],
      [Number.MIN_VALUE],
      [0.5],
      [1],
      [Number.MAX_VALUE],
      [Infinity],
      [NaN],
      [false],
      [true],
      [true, new Uint8Array(0)],
    ]
    for (let i = 1; i < ordered.length; i++) {
      const before = ordered[i - 1]!
      const after = ordered[i]!
      expect(compareKeys(before, after), `reference order at ${i}`).toBe(-1)
      expect(compareEncoded(before, after), `byte order at ${i}`).toBe(-1)
    }
  })

  it('sorts every Uint8Array before every string, every string before every bigint, and so on', () => {
    const byType: KvKey[] = [[Uint8Array.of(0xff, 0xff)], ['\u{10ffff}'], [(1n << 2040n) - 1n], [-Infinity], [false], [true]]
    for (let i = 1; i < byType.length; i++) expect(compareEncoded(byType[i - 1]!, byType[i]!)).toBe(-1)
    expect(compareEncoded([NaN], [false])).toBe(-1)
  })

  it('sorts negative bigints before positive ones', () => {
    expect(compareEncoded([-1n], [1n])).toBe(-1)
    expect(compareEncoded([-(1n << 2000n)], [1n])).toBe(-1)
    expect(compareEncoded([-1n], [1n << 2000n])).toBe(-1)
  })

  it('sorts -0 before 0', () => {
    expect(compareEncoded([-0], [0])).toBe(-1)
  })

  it('sorts NaN after Infinity, whatever the NaN’s sign bit', () => {
    expect(compareEncoded([Infinity], [NaN])).toBe(-1)
    expect(compareEncoded([Infinity], [doubleFromBits('fff8000000000000')])).toBe(-1)
  })

  it('sorts strings by UTF-8 bytes, not by UTF-16 code units', () => {
    // In UTF-16 '\u{10000}' (d800 dc00) sorts before '\uffff'; in UTF-8 (f0 90 80 80 vs ef bf bf) it sorts after.
    expect('\u{10000}' < '\uffff').toBe(true)
    expect(compareEncoded(['\uffff'], ['\u{10000}'])).toBe(-1)
  })

  it('sorts a key before every key it is a prefix of', () => {
    expect(compareEncoded(['a'], ['a', new Uint8Array(0)])).toBe(-1)
    expect(compareEncoded([1n], [1n, -Infinity])).toBe(-1)
    expect(compareEncoded([Uint8Array.of(0)], [Uint8Array.of(0), Uint8Array.of(0)])).toBe(-1)
  })

  it('sorts the children of a string part before a longer string that extends it with NUL', () => {
    expect(compareEncoded(['a', true, true], ['a\0'])).toBe(-1)
    expect(compareEncoded([Uint8Array.of(1), true], [Uint8Array.of(1, 0)])).toBe(-1)
  })

  it('property: comparing encodings gives the same answer as comparing keys', () => {
    fc.assert(
      fc.property(keyPair, ([a, b]) => {
        expect(compareEncoded(a, b)).toBe(compareKeys(a, b))
      }),
      { numRuns: 2000 },
    )
  })

  it('property: the order holds over keys with parts of every size', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(compareEncoded(a, b)).toBe(compareKeys(a, b))
      }),
      { numRuns: 1500 },
    )
  })

  it('property: sorting by encoded bytes sorts the keys', () => {
    fc.assert(
      fc.property(fc.array(narrowKey, { minLength: 2, maxLength: 30 }), (keys) => {
        const sorted = [...keys].sort((a, b) => Buffer.compare(encodeKey(a), encodeKey(b)))
        for (let i = 1; i < sorted.length; i++) expect(compareKeys(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0)
      }),
      { numRuns: 500 },
    )
  })
})
