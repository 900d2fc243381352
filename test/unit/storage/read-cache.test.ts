/** The read cache alone (src/storage/sqlite/read-cache.ts): validation by the change counter, and its memory bound. */
import { describe, expect, it } from 'vitest'
import { READ_CACHE_BYTES, READ_CACHE_MAX_VALUE_BYTES } from '../../../src/limits.js'
import { cacheId, ReadCache } from '../../../src/storage/sqlite/read-cache.js'
import type { KvRow } from '../../../src/storage/store.js'

const row = (key: string, valueBytes = 8): KvRow => ({
  key: Buffer.from(key),
  value: Buffer.alloc(valueBytes, 1),
  encoding: 1,
  version: 1,
  expiresAt: null,
})

/** A cache over a counter the test moves, as another connection's commit would. */
function cacheWithCounter() {
  const counter = { value: 1, reads: 0 }
  const cache = new ReadCache(() => {
    counter.reads++
    return counter.value
  })
  return { cache, counter }
}

describe('ReadCache', () => {
  it('returns a row only while the change counter is the one observed before it was read', () => {
    const { cache, counter } = cacheWithCounter()
    const id = cacheId(Buffer.from('k'))
    expect(cache.get(id)).toBeUndefined()
    const r = row('k')
    cache.put(id, r)
    expect(cache.get(id)).toBe(r)
    counter.value++
    expect(cache.get(id)).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('caches nothing before it has read the counter once', () => {
    const { cache, counter } = cacheWithCounter()
    cache.put('k', row('k'))
    expect(cache.size).toBe(0)
    expect(counter.reads).toBe(0)
  })

  it('refreshes only keys it holds, and drops keys', () => {
    const { cache } = cacheWithCounter()
    cache.get('a')
    cache.refresh('a', row('a'))
    expect(cache.size).toBe(0)
    cache.put('a', row('a'))
    const newer = { ...row('a'), version: 2 }
    cache.refresh('a', newer)
    expect(cache.get('a')).toBe(newer)
    cache.drop('a')
    expect(cache.get('a')).toBeUndefined()
  })

  it(`keeps at most ${READ_CACHE_BYTES} bytes of keys and values, dropping the oldest first`, () => {
    const { cache } = cacheWithCounter()
    cache.get('first')
    const valueBytes = 1000
    const rows = Math.ceil((2 * READ_CACHE_BYTES) / valueBytes)
    for (let i = 0; i < rows; i++) cache.put(`key-${i}`, row(`key-${i}`, valueBytes))
    const perRow = valueBytes + 'key-0000'.length
    expect(cache.size).toBeLessThanOrEqual(Math.ceil(READ_CACHE_BYTES / perRow))
    expect(cache.size).toBeGreaterThan(READ_CACHE_BYTES / (perRow + 10) - 1)
    expect(cache.get('key-0')).toBeUndefined()
    expect(cache.get(`key-${rows - 1}`)).toBeDefined()
  })

  it(`does not keep values over ${READ_CACHE_MAX_VALUE_BYTES} bytes`, () => {
    const { cache } = cacheWithCounter()
    cache.get('big')
    cache.put('big', row('big', READ_CACHE_MAX_VALUE_BYTES + 1))
    expect(cache.size).toBe(0)
    cache.put('fits', row('fits', READ_CACHE_MAX_VALUE_BYTES))
    expect(cache.size).toBe(1)
  })
})
