import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CommitBatcher, mutationBytes, planBulkLoad, sizeOf } from '../../src/bulk-load.js'
import type { PreparedCommit, PreparedMutation } from '../../src/commit.js'
import { MAX_KEY_BYTES, MAX_MUTATIONS, MAX_TOTAL_KEY_BYTES, MAX_TOTAL_MUTATION_BYTES, MAX_VALUE_BYTES } from '../../src/limits.js'

const set = (keyBytes: number, valueBytes: number, id: number): PreparedMutation => {
  const key = Buffer.alloc(keyBytes)
  key.writeUInt32BE(id)
  return { type: 'set', key, value: Buffer.alloc(valueBytes), encoding: 1, version: 0, expiresAt: null }
}

describe('CommitBatcher', () => {
  it('makes commits within every limit, in order, losing nothing, whatever the sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 4, max: MAX_KEY_BYTES }), fc.integer({ min: 0, max: MAX_VALUE_BYTES })), { maxLength: 3000 }),
        (sizes) => {
          const batcher = new CommitBatcher()
          const commits: PreparedCommit[] = []
          sizes.forEach(([k, v], i) => {
            const full = batcher.add(set(k, v, i))
            if (full) commits.push(full)
          })
          const last = batcher.take()
          if (last) commits.push(last)
          for (const commit of commits) {
            expect(commit.mutations.length).toBeLessThanOrEqual(MAX_MUTATIONS)
            expect(commit.mutations.reduce((n, m) => n + m.key.length, 0)).toBeLessThanOrEqual(MAX_TOTAL_KEY_BYTES)
            expect(commit.mutations.reduce((n, m) => n + mutationBytes(m), 0)).toBe(commit.bytes)
            expect(commit.bytes).toBeLessThanOrEqual(MAX_TOTAL_MUTATION_BYTES)
          }
          const ids = commits.flatMap((c) => c.mutations.map((m) => m.key.readUInt32BE(0)))
          expect(ids).toEqual(sizes.map((_, i) => i))
        },
      ),
      { numRuns: 50 },
    )
  })

  it('fills a commit to the count limit with small mutations', () => {
    const batcher = new CommitBatcher()
    let first: PreparedCommit | undefined
    for (let i = 0; i <= MAX_MUTATIONS && !first; i++) first = batcher.add(set(4, 10, i))
    expect(first?.mutations).toHaveLength(MAX_MUTATIONS)
    expect(batcher.size).toBe(1)
  })
})

describe('planBulkLoad', () => {
  it('keys each item under the prefix, by property or function, with expireIn', () => {
    expect(planBulkLoad<{ id: number }>({ prefix: ['a'], keyProperty: 'id' })({ id: 3 })).toEqual({ key: ['a', 3], value: { id: 3 } })
    expect(planBulkLoad<string>({ prefix: [], keyProperty: (s) => s, expireIn: 5 })('x')).toEqual({ key: ['x'], value: 'x', expireIn: 5 })
    expect(() => planBulkLoad<number>({ prefix: [], keyProperty: 'id' as never })(5)).toThrow('an item must be an object to have a id property: received 5')
  })

  it('knows the size of arrays, Sets and Maps only', () => {
    expect(sizeOf([1, 2])).toBe(2)
    expect(sizeOf(new Set([1]))).toBe(1)
    expect(sizeOf(new Map())).toBe(0)
    expect(sizeOf((function* () {})())).toBeUndefined()
  })
})
