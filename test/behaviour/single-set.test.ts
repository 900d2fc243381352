/**
 * A plain set alone in its group is written by one statement (src/storage/sqlite/queries.ts `prepareSingleSet`):
 * it must hand out the same versionstamps as a write transaction and leave nothing in the file.
 */
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { fromVersionstamp } from '../../src/versionstamp.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'

describe('a plain set in one statement', () => {
  it('takes the next commit counter, between atomics and deletes, and stores the row under it', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path)
    const stamps = [
      (await db.set(['a'], 1)).versionstamp,
      ((await db.atomic().set(['b'], 2).commit()) as { versionstamp: string }).versionstamp,
      (await db.set(['a'], 3, { expireIn: 60_000 })).versionstamp,
    ]
    await db.delete(['b'])
    stamps.push((await db.set(['c'], 4)).versionstamp)
    expect(stamps.map((s) => Number(fromVersionstamp(s)))).toEqual([1, 2, 3, 5])
    expect(await db.get(['a'])).toEqual({ key: ['a'], value: 3, versionstamp: stamps[2] })
    expect(await db.get(['c'])).toEqual({ key: ['c'], value: 4, versionstamp: stamps[3] })
    await db.close()
    // Nothing of the statement is in the file: no view, no trigger; the counter is the last versionstamp's.
    const file = new Database(path, { readonly: true })
    try {
      const objects = file.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger')").all()
      expect(objects).toEqual([])
      expect(file.prepare('SELECT version FROM kv_meta').pluck().get()).toBe(5)
      const row = file.prepare('SELECT version, expires_at AS expiresAt FROM kv WHERE version = 3').get() as {
        expiresAt: number | null
      }
      expect(row.expiresAt).toBeGreaterThan(Date.now())
    } finally {
      file.close()
    }
  })

  it('keeps concurrent sets in one group transaction, each with its own versionstamp', async () => {
    const db = await openTestDb(tempDbPath())
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => db.set(['k', i], i)))
    const stamps = results.map((r) => Number(fromVersionstamp(r.versionstamp)))
    expect(new Set(stamps).size).toBe(20)
    expect(Math.max(...stamps)).toBe(20)
  })

  it('works in memory', async () => {
    const db = await openTestDb()
    expect((await db.set(['m'], 'x')).versionstamp).toBe('00000000000000000001')
    expect((await db.get(['m'])).value).toBe('x')
  })
})
