import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyLayout } from '../../../src/collection/layout.js'
import { encodeKey } from '../../../src/key/codec.js'
import type { KvKey, KvKeyPart } from '../../../src/types.js'

// Mostly a tiny alphabet, so prefixes nest, index names equal prefix parts and values equal names or id parts: the
// shapes in which `['__index', ...prefix, name, value, ...id]` collided. Now and then any part, for the encoding.
const tinyPart = fc.constantFrom<KvKeyPart>('a', 'b')
const oddPart = fc.constantFrom<KvKeyPart>('__index', 1, Uint8Array.of(2, 0x61, 0))
const anyPart: fc.Arbitrary<KvKeyPart> = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.bigInt(), fc.boolean(), fc.uint8Array({ maxLength: 4 }))
const smallPart = fc.oneof({ arbitrary: tinyPart, weight: 8 }, { arbitrary: oddPart, weight: 1 }, { arbitrary: anyPart, weight: 1 })
const key = (minLength: number, maxLength: number): fc.Arbitrary<KvKeyPart[]> => fc.array(smallPart, { minLength, maxLength })
const indexName = fc.oneof({ arbitrary: fc.constantFrom('a', 'b'), weight: 9 }, { arbitrary: fc.string({ maxLength: 3 }), weight: 1 })

/** What one collection with one index writes: a record, a unique entry or a non-unique entry. */
const write = fc.record({
  extra: key(0, 2),
  idParts: fc.integer({ min: 1, max: 3 }),
  index: indexName,
  value: smallPart,
  id: key(3, 3),
  kind: fc.constantFrom('record', 'unique', 'entry'),
})

/** The key written, and whose it is: a record, or one index of one collection (by its encoded prefix). */
function keyOf(base: KvKeyPart[], w: typeof write extends fc.Arbitrary<infer T> ? T : never) {
  const prefix = [...base, ...w.extra]
  const layout = new KeyLayout(prefix, undefined, w.idParts)
  const parts = w.id.slice(0, w.idParts)
  const key: KvKey =
    w.kind === 'record'
      ? layout.recordKey(parts)
      : w.kind === 'unique'
        ? layout.uniqueKey(w.index, w.value)
        : layout.entryKey(w.index, w.value, parts)
  // Records of nested collections are the same keys by design (a collection is a view of the keys under its prefix).
  const owner = w.kind === 'record' ? 'a record' : `index ${w.index} of ${encodeKey(prefix).toString('hex')}`
  return { key: encodeKey(key).toString('hex'), owner }
}

describe('KeyLayout: the default index layout', () => {
  it('never gives two collections, or a record and an index entry, the same key', () => {
    // Both prefixes extend one base, so they are often equal or nested one inside the other.
    const base = key(1, 2).filter((parts) => parts[0] !== '__index')
    fc.assert(
      fc.property(base, write, write, (b, x, y) => {
        const a = keyOf(b, x)
        const c = keyOf(b, y)
        if (a.key === c.key) expect(c.owner).toBe(a.owner)
      }),
      { numRuns: 5000 },
    )
  })

  it('keeps the entries of a parent and a child collection apart (the nested-prefix collision)', () => {
    const parent = new KeyLayout(['users'], undefined, 1)
    const child = new KeyLayout(['users', 'team'], undefined, 1)
    const parentEntry = encodeKey(parent.entryKey('team', 'email', ['ada@example.com']))
    const childUnique = encodeKey(child.uniqueKey('email', 'ada@example.com'))
    expect(parentEntry.equals(childUnique)).toBe(false)
    expect(child.uniqueKey('email', 'ada@example.com')).toEqual([
      '__index',
      Uint8Array.from(encodeKey(['users', 'team'])),
      'email',
      'ada@example.com',
    ])
  })

  it('refuses prefixes in the index space and index prefixes that overlap the records', () => {
    expect(() => new KeyLayout(['__index'], undefined, 1)).toThrow(/collection prefix must not begin with '__index'/)
    expect(() => new KeyLayout(['__index', 'users'], undefined, 1)).toThrow(TypeError)
    expect(() => new KeyLayout(['users'], ['__index', 'users'], 1)).toThrow(/indexPrefix must not begin with '__index'/)
    expect(() => new KeyLayout(['users'], ['users', 'idx'], 1)).toThrow(
      /indexPrefix must be neither inside the collection prefix nor around it: received \["users", "idx"\] for prefix \["users"\]/,
    )
    expect(() => new KeyLayout(['app', 'users'], ['app'], 1)).toThrow(TypeError)
    expect(() => new KeyLayout(['users'], ['users'], 1)).toThrow(TypeError)
    expect(new KeyLayout(['app', 'users'], ['app', 'idx'], 1).uniqueKey('email', 'a')).toEqual(['app', 'idx', 'email', 'a'])
    expect(new KeyLayout(['__indexes'], undefined, 1).prefix).toEqual(['__indexes'])
  })
})
