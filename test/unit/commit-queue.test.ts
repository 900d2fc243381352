import { describe, expect, it } from 'vitest'
import { CommitQueue } from '../../src/commit-queue.js'
import { prepareCommit } from '../../src/commit.js'
import { MAX_GROUP_BYTES, MAX_GROUP_COMMITS } from '../../src/limits.js'
import { v8Serializer } from '../../src/serializers/v8.js'
import type { KvRow, Storage, WriteTransaction } from '../../src/storage/store.js'

/** A synchronous in-memory store that records each transaction: how many rows it wrote and which keys it purged. */
function recordingStore() {
  const rows = new Map<string, KvRow>()
  const groups: { writes: number; bytes: number; purged: string[] }[] = []
  let version = 0
  const storage: Storage = {
    read: (key) => rows.get(key.toString('hex')),
    readMany: (keys) => keys.map((key) => rows.get(key.toString('hex'))),
    readRange: () => [],
    transact(_keys, fn) {
      const group = { writes: 0, bytes: 0, purged: [] as string[] }
      const tx: WriteTransaction = {
        read: (key) => rows.get(key.toString('hex')),
        write: (row) => {
          group.writes++
          group.bytes += row.key.length + row.value.length
          rows.set(row.key.toString('hex'), row)
        },
        remove: (key) => void rows.delete(key.toString('hex')),
        removeExpired: (key, now) => {
          const row = rows.get(key.toString('hex'))
          if (row && row.expiresAt !== null && row.expiresAt <= now) {
            rows.delete(key.toString('hex'))
            group.purged.push(key.toString('hex'))
          }
        },
        nextVersion: () => ++version,
      }
      groups.push(group)
      return fn(tx)
    },
    purgeExpired: () => 0,
    close: () => {},
  }
  return { storage, rows, groups }
}

const setOf = (key: unknown[], value: unknown, now = 0, expireIn?: number) =>
  prepareCommit([], [expireIn === undefined ? { type: 'set', key: key as never, value } : { type: 'set', key: key as never, value, expireIn }], v8Serializer, now, 'built')

describe('CommitQueue', () => {
  it('splits a burst of small commits into groups of at most MAX_GROUP_COMMITS', async () => {
    const { storage, groups } = recordingStore()
    const queue = new CommitQueue(storage, () => 0)
    const n = MAX_GROUP_COMMITS * 2 + 10
    const results = await Promise.all(Array.from({ length: n }, (_, i) => queue.submit(setOf(['k', i], i))))
    expect(results.every((r) => r.ok)).toBe(true)
    expect(groups.map((g) => g.writes)).toEqual([MAX_GROUP_COMMITS, MAX_GROUP_COMMITS, 10])
  })

  it('splits a burst of large commits into groups of at most MAX_GROUP_BYTES (one commit always fits)', async () => {
    const { storage, groups } = recordingStore()
    const queue = new CommitQueue(storage, () => 0)
    const big = new Uint8Array(60_000)
    const commits = Array.from({ length: 200 }, (_, c) =>
      prepareCommit([], Array.from({ length: 12 }, (_, i) => ({ type: 'set' as const, key: ['b', c, i], value: big })), v8Serializer, 0, 'built'),
    )
    await Promise.all(commits.map((commit) => queue.submit(commit)))
    expect(groups.length).toBeGreaterThan(1)
    expect(groups.reduce((sum, g) => sum + g.writes, 0)).toBe(200 * 12)
    for (const group of groups) expect(group.bytes).toBeLessThanOrEqual(MAX_GROUP_BYTES)
  })

  it('never starts a write to purge a key a read found expired; the next group deletes it', async () => {
    const { storage, rows, groups } = recordingStore()
    let now = 0
    const queue = new CommitQueue(storage, () => now)
    await queue.submit(setOf(['gone'], 1, now, 5))
    now = 10
    const [key] = [...rows.values()].map((row) => row.key)
    queue.purgeFound(key as Buffer)
    await new Promise((resolve) => setTimeout(resolve, 10))
    await queue.drain()
    expect(groups).toHaveLength(1)
    await queue.submit(setOf(['other'], 1, now))
    expect(groups).toHaveLength(2)
    expect(groups[1]?.purged).toEqual([(key as Buffer).toString('hex')])
  })
})
