import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'

const rowCount = (path: string): number => {
  const raw = new Database(path, { readonly: true })
  try {
    return (raw.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n
  } finally {
    raw.close()
  }
}

describe('expiry', () => {
  it('hides an entry from every read from the moment it expires, and not before', async () => {
    let now = 1_000_000
    const db = await openTestDb(undefined, { clock: () => now })
    await db.set(['session', 'token123'], 'abc123', { expireIn: 60 * 1000 })
    await db.set(['session', 'keep'], 'forever')
    now += 60 * 1000 - 1
    expect((await db.get(['session', 'token123'])).value).toBe('abc123')
    now += 1
    expect(await db.get(['session', 'token123'])).toEqual({ key: ['session', 'token123'], value: null, versionstamp: null })
    expect((await db.getMany([['session', 'token123']]))[0]?.value).toBeNull()
    expect((await Array.fromAsync(db.list({ prefix: ['session'] }))).map((e) => e.key)).toEqual([['session', 'keep']])
  })

  it('treats an expired entry as absent for checks and sums', async () => {
    let now = 1_000_000
    const db = await openTestDb(undefined, { clock: () => now })
    await db.set(['k'], 'x', { expireIn: 10 })
    now += 10
    expect((await db.atomic().check({ key: ['k'], versionstamp: null }).set(['k'], 'y').commit()).ok).toBe(true)
    expect((await db.get(['k'])).value).toBe('y')
  })

  it('expires at once with expireIn 0', async () => {
    const db = await openTestDb()
    await db.set(['gone'], 1, { expireIn: 0 })
    expect((await db.get(['gone'])).value).toBeNull()
  })

  it('clears expiry when a key is written again without expireIn', async () => {
    let now = 1_000_000
    const db = await openTestDb(undefined, { clock: () => now })
    await db.set(['k'], 1, { expireIn: 10 })
    await db.set(['k'], 2)
    now += 1000
    expect((await db.get(['k'])).value).toBe(2)
  })

  it('deletes expired rows with cleanup() and leaves live ones', async () => {
    let now = 1_000_000
    const path = tempDbPath()
    const db = await openTestDb(path, { clock: () => now, sweepInterval: 0 })
    for (let i = 0; i < 2500; i++) await db.atomic().set(['e', i], i, { expireIn: 100 }).commit()
    await db.set(['live'], 1, { expireIn: 10_000 })
    await db.set(['forever'], 1)
    expect(rowCount(path)).toBe(2502)
    await db.cleanup()
    expect(rowCount(path)).toBe(2502) // nothing is deleted before its time
    now += 100
    await db.cleanup()
    expect(rowCount(path)).toBe(2)
  })

  it('deletes an expired row when a read finds it', async () => {
    let now = 1_000_000
    const path = tempDbPath()
    const db = await openTestDb(path, { clock: () => now, sweepInterval: 0 })
    await db.set(['a'], 1, { expireIn: 5 })
    await db.set(['b'], 1, { expireIn: 5 })
    now += 5
    await db.get(['a'])
    await Array.fromAsync(db.list({ prefix: [] }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(rowCount(path)).toBe(0)
  })

  it('sweeps expired rows in the background on a timer', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path, { sweepInterval: 20 })
    await db.set(['a'], 1, { expireIn: 1 })
    await db.set(['b'], 1)
    const deadline = Date.now() + 5000
    while (rowCount(path) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(rowCount(path)).toBe(1)
  })
})
