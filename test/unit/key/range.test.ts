import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeKey } from '../../../src/key/codec.js'
import { applyCursor, assertKeySize, encodeCursor, resolveSelector, type KeyRange } from '../../../src/key/range.js'
import type { KvKey, KvKeyPart, KvListSelector } from '../../../src/types.js'

const enc = (key: KvKey): Buffer => encodeKey(key)
const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts)
const FF = Buffer.of(0xff)
const NUL = Buffer.of(0x00)

/** Whether `key` lies in the half-open byte range. */
const contains = (range: Pick<KeyRange, 'start' | 'end'>, key: KvKey): boolean => {
  const bytes = enc(key)
  return Buffer.compare(bytes, range.start) >= 0 && Buffer.compare(bytes, range.end) < 0
}

/** The keys of `keys` the range holds, in byte order (what `list` would return). */
const listed = (range: Pick<KeyRange, 'start' | 'end'>, keys: readonly Buffer[]): Buffer[] =>
  keys
    .filter((k) => Buffer.compare(k, range.start) >= 0 && Buffer.compare(k, range.end) < 0)
    .sort(Buffer.compare)

const resolve = (selector: unknown): KeyRange => resolveSelector(selector as KvListSelector)

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to throw')
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('resolveSelector: { prefix }', () => {
  it('lists the strict descendants of the prefix', () => {
    const range = resolveSelector({ prefix: ['a'] })
    expect(hexOf(range.start)).toBe(hexOf(cat(enc(['a']), NUL)))
    expect(hexOf(range.end)).toBe(hexOf(cat(enc(['a']), FF)))
    expect(hexOf(range.base)).toBe(hexOf(enc(['a'])))
    for (const child of [['a', new Uint8Array(0)], ['a', ''], ['a', 'b', 'c'], ['a', -Infinity], ['a', true]] as KvKey[]) {
      expect(contains(range, child), JSON.stringify(child.map(String))).toBe(true)
    }
  })

  it('does not list the prefix key itself', () => {
    expect(contains(resolveSelector({ prefix: ['a'] }), ['a'])).toBe(false)
    expect(contains(resolveSelector({ prefix: ['a', 1n] }), ['a', 1n])).toBe(false)
  })

  it('does not list siblings, nor strings that merely start with the prefix string', () => {
    const range = resolveSelector({ prefix: ['a'] })
    for (const other of [['b'], ['ab'], ['a\0'], ['a\0', 'x'], [''], [1n], [Uint8Array.of(0x61)]] as KvKey[]) {
      expect(contains(range, other), JSON.stringify(other.map(String))).toBe(false)
    }
  })

  it('does not list Uint8Arrays that extend a Uint8Array prefix with a 00 byte', () => {
    const range = resolveSelector({ prefix: [Uint8Array.of(1)] })
    expect(contains(range, [Uint8Array.of(1), Uint8Array.of(0)])).toBe(true)
    expect(contains(range, [Uint8Array.of(1, 0)])).toBe(false)
    expect(contains(range, [Uint8Array.of(1, 0), 'x'])).toBe(false)
  })

  it('lists everything for the prefix []', () => {
    const range = resolveSelector({ prefix: [] })
    expect(range.start.length).toBe(1)
    expect(range.start[0]).toBe(0x00)
    expect(range.end.length).toBe(1)
    expect(range.end[0]).toBe(0xff)
    expect(range.base.length).toBe(0)
    for (const key of [[new Uint8Array(0)], [Uint8Array.of(0xff, 0xff)], [''], [-(1n << 2000n)], [NaN], [true, true]] as KvKey[]) {
      expect(contains(range, key)).toBe(true)
    }
  })
})

describe('resolveSelector: { prefix, start }', () => {
  it('treats a start that is not longer than the prefix as relative to it', () => {
    const range = resolveSelector({ prefix: ['users'], start: ['user1'] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['users', 'user1'])))
    expect(hexOf(range.end)).toBe(hexOf(cat(enc(['users']), FF)))
    expect(hexOf(range.base)).toBe(hexOf(enc(['users'])))
  })

  it('treats a start that repeats the prefix but is no longer than it as relative', () => {
    const range = resolveSelector({ prefix: ['a'], start: ['a'] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['a', 'a'])))
  })

  it('treats a longer start that begins with every prefix part as a full key (Deno KV style)', () => {
    const range = resolveSelector({ prefix: ['a'], start: ['a', 'c'] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['a', 'c'])))
    const nested = resolveSelector({ prefix: ['a', 1n], start: ['a', 1n, true, 'x'] })
    expect(hexOf(nested.start)).toBe(hexOf(enc(['a', 1n, true, 'x'])))
  })

  it('treats a longer start that differs from the prefix in some part as relative', () => {
    const range = resolveSelector({ prefix: ['a', 'b'], start: ['a', 'c', 'd'] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['a', 'b', 'a', 'c', 'd'])))
  })

  it('treats a start whose first part only extends the prefix string with NUL as relative', () => {
    // ['a\0', 'x'] encodes as 02 61 00 ff 00 …, which begins with the bytes of ['a'] but not with its part.
    const range = resolveSelector({ prefix: ['a'], start: ['a\0', 'x'] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['a', 'a\0', 'x'])))
    const bytes = resolveSelector({ prefix: [Uint8Array.of(7)], start: [Uint8Array.of(7, 0), 'x'] })
    expect(hexOf(bytes.start)).toBe(hexOf(enc([Uint8Array.of(7), Uint8Array.of(7, 0), 'x'])))
  })

  it('lists from the start inclusive to the end of the prefix', () => {
    const range = resolveSelector({ prefix: ['a'], start: ['c'] })
    expect(contains(range, ['a', 'b'])).toBe(false)
    expect(contains(range, ['a', 'c'])).toBe(true)
    expect(contains(range, ['a', 'c', 1n])).toBe(true)
    expect(contains(range, ['a', true])).toBe(true)
    expect(contains(range, ['b'])).toBe(false)
  })

  it('treats every non-empty start as a full key under the prefix []', () => {
    const range = resolveSelector({ prefix: [], start: ['m'] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['m'])))
  })
})

describe('resolveSelector: { prefix, end }', () => {
  it('treats a relative end as appended to the prefix', () => {
    const range = resolveSelector({ prefix: ['a'], end: ['m'] })
    expect(hexOf(range.start)).toBe(hexOf(cat(enc(['a']), NUL)))
    expect(hexOf(range.end)).toBe(hexOf(enc(['a', 'm'])))
  })

  it('treats a longer end that begins with every prefix part as a full key', () => {
    const range = resolveSelector({ prefix: ['a'], end: ['a', 'm'] })
    expect(hexOf(range.end)).toBe(hexOf(enc(['a', 'm'])))
  })

  it('keeps an end that extends the prefix string with NUL inside the prefix', () => {
    const range = resolveSelector({ prefix: ['a'], end: ['a\0', 'x'] })
    expect(hexOf(range.end)).toBe(hexOf(enc(['a', 'a\0', 'x'])))
    expect(contains(range, ['a\0'])).toBe(false)
  })

  it('lists from the first descendant up to the end, exclusive', () => {
    const range = resolveSelector({ prefix: ['a'], end: ['m'] })
    expect(contains(range, ['a'])).toBe(false)
    expect(contains(range, ['a', new Uint8Array(0)])).toBe(true)
    expect(contains(range, ['a', 'l', 'z'])).toBe(true)
    expect(contains(range, ['a', 'm'])).toBe(false)
    expect(contains(range, ['a', 'm', 1n])).toBe(false)
  })
})

describe('resolveSelector: { prefix, start, end }', () => {
  it('resolves the documented relative form to keys under the prefix', () => {
    const range = resolveSelector({ prefix: ['users'], start: ['user1'], end: ['user5'] } as KvListSelector)
    expect(hexOf(range.start)).toBe(hexOf(enc(['users', 'user1'])))
    expect(hexOf(range.end)).toBe(hexOf(enc(['users', 'user5'])))
    expect(hexOf(range.base)).toBe(hexOf(enc(['users'])))
    expect(contains(range, ['users', 'user1'])).toBe(true)
    expect(contains(range, ['users', 'user4', 'x'])).toBe(true)
    expect(contains(range, ['users', 'user5'])).toBe(false)
    expect(contains(range, ['user1'])).toBe(false)
  })

  it('resolves the full-key form to the same range', () => {
    const full = resolveSelector({ prefix: ['users'], start: ['users', 'user1'], end: ['users', 'user5'] } as KvListSelector)
    const relative = resolveSelector({ prefix: ['users'], start: ['user1'], end: ['user5'] } as KvListSelector)
    expect(full).toEqual(relative)
  })

  it('resolves start and end independently, one full and one relative', () => {
    const range = resolveSelector({ prefix: ['p'], start: ['p', 2n], end: [5n] } as KvListSelector)
    expect(hexOf(range.start)).toBe(hexOf(enc(['p', 2n])))
    expect(hexOf(range.end)).toBe(hexOf(enc(['p', 5n])))
  })

  it('throws a TypeError when the resolved start is after the resolved end', () => {
    const error = thrown(() => resolve({ prefix: ['p'], start: ['z'], end: ['a'] }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('list start must not be after list end')
  })

  it('gives an empty range when start equals end', () => {
    const range = resolve({ prefix: ['p'], start: ['x'], end: ['p', 'x'] })
    expect(range.start.equals(range.end)).toBe(true)
    expect(contains(range, ['p', 'x'])).toBe(false)
  })
})

describe('resolveSelector: { start, end }', () => {
  it('is the half-open range [start, end)', () => {
    const range = resolveSelector({ start: ['a', 1n], end: ['a', 5n] })
    expect(hexOf(range.start)).toBe(hexOf(enc(['a', 1n])))
    expect(hexOf(range.end)).toBe(hexOf(enc(['a', 5n])))
    expect(contains(range, ['a', 1n])).toBe(true)
    expect(contains(range, ['a', 4n, 'x'])).toBe(true)
    expect(contains(range, ['a', 5n])).toBe(false)
    expect(contains(range, ['a', 0n])).toBe(false)
  })

  it('uses the bytes start and end share as the cursor base', () => {
    expect(hexOf(resolveSelector({ start: ['a', 1n], end: ['a', 5n] }).base)).toBe('02610015')
    expect(hexOf(resolveSelector({ start: ['a'], end: ['b'] }).base)).toBe('02')
    expect(resolveSelector({ start: ['b'], end: [1n] }).base.length).toBe(0)
  })

  it('can span keys of different prefixes and types', () => {
    const range = resolveSelector({ start: ['a'], end: [true] })
    expect(contains(range, ['zzz', 1n])).toBe(true)
    expect(contains(range, [1n])).toBe(true)
    expect(contains(range, [false])).toBe(true)
    expect(contains(range, [true])).toBe(false)
    expect(contains(range, [Uint8Array.of(0xff)])).toBe(false)
  })

  it('gives an empty range when start equals end', () => {
    const range = resolveSelector({ start: ['a'], end: ['a'] })
    expect(range.start.equals(range.end)).toBe(true)
    expect(contains(range, ['a'])).toBe(false)
  })

  it('throws a TypeError when start is after end', () => {
    const error = thrown(() => resolveSelector({ start: ['b'], end: ['a'] }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('list start must not be after list end')
    expect(thrown(() => resolveSelector({ start: [0], end: [-0] }))).toBeInstanceOf(TypeError)
  })
})

describe('resolveSelector: invalid selectors', () => {
  it('throws a TypeError for start alone', () => {
    const error = thrown(() => resolve({ start: ['a'] }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('list selector must have a prefix, or both start and end: received start without end')
  })

  it('throws a TypeError for end alone', () => {
    const error = thrown(() => resolve({ end: ['a'] }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('list selector must have a prefix, or both start and end: received end without start')
  })

  it('throws a TypeError for an empty selector', () => {
    const error = thrown(() => resolve({}))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('list selector must have a prefix, or both start and end: received neither')
  })

  it('throws a TypeError for a selector that is not an object', () => {
    for (const bad of [undefined, null, 'a', 1, ['a'], []]) {
      const error = thrown(() => resolve(bad))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^list selector must be an object: received /)
    }
  })

  it('throws a TypeError for a prefix that is not an array of key parts, naming the bad part', () => {
    expect(thrown(() => resolve({ prefix: 'a' })).message).toBe('list prefix must be an array of key parts: received "a"')
    const error = thrown(() => resolve({ prefix: ['a', null] }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(/^key part 1 .*received null$/)
  })

  it('throws a TypeError for an empty or malformed start or end', () => {
    expect(thrown(() => resolve({ prefix: ['a'], start: [] })).message).toBe('list start must have at least one part')
    expect(thrown(() => resolve({ prefix: ['a'], end: 'z' })).message).toMatch(/^list end must be an array/)
    expect(thrown(() => resolve({ start: [], end: ['a'] })).message).toBe('list start must have at least one part')
    expect(thrown(() => resolve({ start: ['a'], end: [new Date(0)] })).message).toMatch(/^key part 0 .*received a Date$/)
  })
})

describe('resolveSelector: key size', () => {
  const tooLarge = (n: number) => `Key too large for read (max 2048 bytes): received ${n}`

  it('accepts a prefix of exactly 2048 encoded bytes', () => {
    expect(() => resolveSelector({ prefix: ['x'.repeat(2046)] })).not.toThrow()
  })

  it('throws a RangeError for a prefix over 2048 encoded bytes', () => {
    const error = thrown(() => resolveSelector({ prefix: ['x'.repeat(2047)] }))
    expect(error).toBeInstanceOf(RangeError)
    expect(error.message).toBe(tooLarge(2049))
  })

  it('measures a relative start or end after appending it to the prefix', () => {
    // ['a'] is 3 bytes; a string of n characters is n + 2 bytes.
    expect(() => resolveSelector({ prefix: ['a'], start: ['x'.repeat(2043)] })).not.toThrow()
    const start = thrown(() => resolveSelector({ prefix: ['a'], start: ['x'.repeat(2044)] }))
    expect(start).toBeInstanceOf(RangeError)
    expect(start.message).toBe(tooLarge(2049))
    const end = thrown(() => resolveSelector({ prefix: ['a'], end: ['x'.repeat(2100)] }))
    expect(end).toBeInstanceOf(RangeError)
    expect(end.message).toBe(tooLarge(2105))
  })

  it('throws a RangeError for a start or end over 2048 bytes in a { start, end } selector', () => {
    const error = thrown(() => resolveSelector({ start: ['a'], end: ['x'.repeat(2047)] }))
    expect(error).toBeInstanceOf(RangeError)
    expect(error.message).toBe(tooLarge(2049))
    expect(thrown(() => resolveSelector({ start: ['x'.repeat(3000)], end: ['y'] })).message).toBe(tooLarge(3002))
  })

  it('names read or write in the size error', () => {
    expect(() => assertKeySize(new Uint8Array(2048), 'write')).not.toThrow()
    const error = thrown(() => assertKeySize(new Uint8Array(2049), 'write'))
    expect(error).toBeInstanceOf(RangeError)
    expect(error.message).toBe('Key too large for write (max 2048 bytes): received 2049')
  })
})

describe('cursors', () => {
  const prefixRange = () => resolveSelector({ prefix: ['a'] })

  it('is the base64url of the key bytes after the selector’s prefix', () => {
    const range = prefixRange()
    const cursor = encodeCursor(enc(['a', 'b']), range)
    expect(cursor).toBe(Buffer.from(enc(['b'])).toString('base64url'))
    expect(cursor).toBe('AmIA')
  })

  it('is written with the URL-safe alphabet and no padding', () => {
    const range = resolveSelector({ prefix: [] })
    const cursor = encodeCursor(enc([Uint8Array.of(0xfb, 0xff, 0xbf)]), range)
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(cursor).toBe(Buffer.from(enc([Uint8Array.of(0xfb, 0xff, 0xbf)])).toString('base64url'))
  })

  it('continues forward exactly after the entry, including its descendants', () => {
    const range = prefixRange()
    const keys = [['a', 'a'], ['a', 'b'], ['a', 'b', 1n], ['a', 'b\0'], ['a', 'c']].map((k) => enc(k))
    const next = applyCursor(range, encodeCursor(enc(['a', 'b']), range), false)
    expect(listed(next, keys).map(hexOf)).toEqual(keys.slice(2).map(hexOf))
    expect(hexOf(next.end)).toBe(hexOf(range.end))
    expect(next.base).toBe(range.base)
  })

  it('continues in reverse exactly before the entry', () => {
    const range = prefixRange()
    const keys = [['a', 'a'], ['a', 'a', 5n], ['a', 'b'], ['a', 'b', 1n], ['a', 'c']].map((k) => enc(k))
    const next = applyCursor(range, encodeCursor(enc(['a', 'b']), range), true)
    expect(listed(next, keys).map(hexOf)).toEqual(keys.slice(0, 2).map(hexOf))
    expect(hexOf(next.start)).toBe(hexOf(range.start))
  })

  it('works for { start, end } selectors whose base splits a part', () => {
    const range = resolveSelector({ start: ['apple'], end: ['apricot'] })
    expect(hexOf(range.base)).toBe(hexOf(Buffer.from([0x02, 0x61, 0x70])))
    const keys = [['apple'], ['apple', 1n], ['applesauce'], ['apr']].map((k) => enc(k))
    const cursor = encodeCursor(enc(['apple', 1n]), range)
    expect(listed(applyCursor(range, cursor, false), keys).map(hexOf)).toEqual(keys.slice(2).map(hexOf))
    expect(listed(applyCursor(range, cursor, true), keys).map(hexOf)).toEqual(keys.slice(0, 1).map(hexOf))
  })

  it('gives the start key a non-empty cursor when start is a prefix of end', () => {
    // '' is what the iterator reports before any entry, so the first entry's cursor must never be ''.
    const range = resolveSelector({ start: ['a'], end: ['a', 'z'] })
    const keys = [['a'], ['a', 'b'], ['a', 'y', 1n]].map((k) => enc(k))
    const cursor = encodeCursor(enc(['a']), range)
    expect(cursor).not.toBe('')
    expect(listed(applyCursor(range, cursor, false), keys).map(hexOf)).toEqual(keys.slice(1).map(hexOf))
    expect(listed(applyCursor(range, cursor, true), keys)).toEqual([])
  })

  it('works for the selector that lists everything', () => {
    const range = resolveSelector({ prefix: [] })
    const keys = [[Uint8Array.of(0)], ['x'], [1n], [NaN], [true]].map((k) => enc(k))
    const cursor = encodeCursor(enc([1n]), range)
    expect(listed(applyCursor(range, cursor, false), keys).map(hexOf)).toEqual(keys.slice(3).map(hexOf))
    expect(listed(applyCursor(range, cursor, true), keys).map(hexOf)).toEqual(keys.slice(0, 2).map(hexOf))
  })

  const malformed: [string, string][] = [
    ['characters outside base64url', 'Am+A'],
    ['a slash', 'Am/A'],
    ['other punctuation', 'AmIA!'],
    ['padding', 'AmI='],
    ['a padded full group', 'AmIA=='],
    ['the empty string (an empty tail)', ''],
    ['a single character, which holds no byte', 'A'],
    ['non-canonical trailing bits', 'AmJ'],
    ['whitespace', 'Am IA'],
    ['bytes with an unknown tag', Buffer.of(0x00).toString('base64url')],
    ['bytes of an unterminated string', Buffer.of(0x02, 0x62).toString('base64url')],
    ['bytes of a truncated number', Buffer.of(0x21, 0x80).toString('base64url')],
    ['bytes of a string that is not UTF-8', Buffer.of(0x02, 0xff, 0xfe, 0x00).toString('base64url')],
    ['a bigint with a leading zero byte', Buffer.of(0x16, 0x00, 0x05).toString('base64url')],
    ['a short bigint written in the long form', Buffer.of(0x1d, 0x01, 0x05).toString('base64url')],
    ['a NaN that is not canonical', Buffer.of(0x21, 0xff, 0xf8, 0, 0, 0, 0, 0, 1).toString('base64url')],
  ]
  for (const [name, cursor] of malformed) {
    it(`rejects a cursor with ${name} as malformed (TypeError)`, () => {
      const error = thrown(() => applyCursor(prefixRange(), cursor, false))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toBe(`cursor is malformed: received ${JSON.stringify(cursor)}`)
    })
  }

  it('rejects a cursor that is not a string (TypeError)', () => {
    for (const bad of [undefined, null, 5, ['AmIA'], Buffer.from('AmIA')]) {
      const error = thrown(() => applyCursor(prefixRange(), bad, false))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^cursor must be a string: received /)
    }
  })

  it('rejects a cursor that names a key outside a prefix selector (TypeError)', () => {
    // Tail ff 00 after ['a'] is the key ['a\0'], which is not under ['a'].
    const cursor = Buffer.of(0xff, 0x00).toString('base64url')
    for (const reverse of [false, true]) {
      const error = thrown(() => applyCursor(prefixRange(), cursor, reverse))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toBe(`cursor lies outside the list selector: received ${JSON.stringify(cursor)}`)
    }
  })

  it('rejects a cursor before the start or at or after the end of a narrowed selector (TypeError)', () => {
    const range = resolve({ prefix: ['a'], start: ['c'], end: ['m'] })
    for (const key of [['a', 'b'], ['a', 'm'], ['a', 'z']] as KvKey[]) {
      const cursor = encodeCursor(enc(key), range)
      const error = thrown(() => applyCursor(range, cursor, false))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^cursor lies outside the list selector/)
    }
    expect(() => applyCursor(range, encodeCursor(enc(['a', 'c']), range), false)).not.toThrow()
  })

  it('rejects a cursor equal to the end of a { start, end } selector (TypeError)', () => {
    const range = resolveSelector({ start: ['a', 1n], end: ['a', 5n] })
    const atEnd = encodeCursor(enc(['a', 5n]), range)
    expect(thrown(() => applyCursor(range, atEnd, true))).toBeInstanceOf(TypeError)
    const before = encodeCursor(enc(['a', 0n]), range)
    expect(thrown(() => applyCursor(range, before, false))).toBeInstanceOf(TypeError)
  })
})

describe('property: resuming from any cursor continues exactly after that entry', () => {
  const part: fc.Arbitrary<KvKeyPart> = fc.oneof(
    fc.string({ unit: fc.constantFrom('\0', 'a', 'b', 'é', '😀'), maxLength: 3 }),
    fc.bigInt({ min: -300n, max: 300n }),
    fc.constantFrom(-0, 0, 1, -1, NaN, Infinity, -Infinity),
    fc.boolean(),
    fc.array(fc.constantFrom(0x00, 0x01, 0xff), { maxLength: 3 }).map((a) => Uint8Array.from(a)),
  )
  const tail = fc.array(part, { minLength: 1, maxLength: 3 })
  const prefix = fc.array(part, { maxLength: 2 })

  /** Every listed entry's cursor, both directions, compared with the reference slice. */
  function checkCursors(range: KeyRange, keys: Buffer[]): void {
    const inRange = listed(range, keys)
    inRange.forEach((key, i) => {
      const cursor = encodeCursor(key, range)
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(listed(applyCursor(range, cursor, false), keys).map(hexOf)).toEqual(inRange.slice(i + 1).map(hexOf))
      expect(listed(applyCursor(range, cursor, true), keys).map(hexOf)).toEqual(inRange.slice(0, i).map(hexOf))
    })
  }

  /** Distinct encoded keys. */
  const distinct = (keys: KvKey[]): Buffer[] => [...new Map(keys.map((k) => [hexOf(enc(k)), enc(k)])).values()]

  it('for prefix selectors, forward and reverse', () => {
    fc.assert(
      fc.property(prefix, fc.array(tail, { maxLength: 12 }), fc.array(tail, { maxLength: 6 }), (p, inside, outside) => {
        const keys = distinct([...(p.length > 0 ? [p] : []), ...inside.map((t) => [...p, ...t]), ...outside])
        const range = resolveSelector({ prefix: p })
        // The listing is exactly the strict descendants of p.
        for (const k of inside) expect(contains(range, [...p, ...k])).toBe(true)
        expect(contains(range, p.length > 0 ? p : [new Uint8Array(0)])).toBe(p.length === 0)
        checkCursors(range, keys)
      }),
      { numRuns: 400 },
    )
  })

  it('for prefix selectors narrowed by a relative start and end', () => {
    fc.assert(
      fc.property(prefix, fc.array(tail, { maxLength: 12 }), tail, tail, (p, inside, a, b) => {
        // The SPEC rule, written part by part: a bound longer than the prefix that begins with all its parts is a
        // full key; any other is appended to the prefix.
        const samePart = (x: KvKeyPart, y: KvKeyPart | undefined) => y !== undefined && enc([x]).equals(enc([y]))
        const resolveRef = (k: KvKey): KvKey => (k.length > p.length && p.every((x, i) => samePart(x, k[i])) ? k : [...p, ...k])
        const [lo, hi] = Buffer.compare(enc(resolveRef(a)), enc(resolveRef(b))) <= 0 ? [a, b] : [b, a]
        const range = resolve({ prefix: p, start: lo, end: hi })
        expect(hexOf(range.start)).toBe(hexOf(enc(resolveRef(lo))))
        expect(hexOf(range.end)).toBe(hexOf(enc(resolveRef(hi))))
        const keys = [...inside.map((t) => [...p, ...t]), lo, hi, resolveRef(lo), resolveRef(hi)]
        checkCursors(range, distinct(p.length > 0 ? [p, ...keys] : keys))
      }),
      { numRuns: 300 },
    )
  })

  it('rejects any cursor string with a TypeError or narrows the range inside the selector', () => {
    const range = resolveSelector({ prefix: ['a'] })
    const cursor = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'AZaz09-_+/= '.split('')), maxLength: 12 }),
      fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b).toString('base64url')),
    )
    fc.assert(
      fc.property(cursor, fc.boolean(), (c, reverse) => {
        let next: KeyRange
        try {
          next = applyCursor(range, c, reverse)
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError)
          return
        }
        expect(Buffer.compare(next.start, range.start)).toBeGreaterThanOrEqual(0)
        expect(Buffer.compare(next.end, range.end)).toBeLessThanOrEqual(0)
        expect(Buffer.compare(next.start, next.end)).toBeLessThanOrEqual(0)
      }),
      { numRuns: 2000 },
    )
  })

  it('for { start, end } selectors', () => {
    fc.assert(
      fc.property(fc.array(tail, { minLength: 2, maxLength: 14 }), (keys) => {
        const encoded = distinct(keys).sort(Buffer.compare)
        const first = encoded[0]!
        const last = encoded[encoded.length - 1]!
        const range = resolve({ start: keys.find((k) => enc(k).equals(first)), end: keys.find((k) => enc(k).equals(last)) })
        checkCursors(range, encoded)
      }),
      { numRuns: 300 },
    )
  })
})
