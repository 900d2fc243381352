/**
 * One file opened two ways: `Valkeyrie.open(path)` (the synchronous fast path) and a wrapped `sqliteDriver` (the
 * generic driver adapter). Both must share one commit counter and one serializer record.
 */
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { jsonSerializer, OpenError, Valkeyrie } from '../../src/index.js'
import { toVersionstamp } from '../../src/versionstamp.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'
import { runWorker } from '../support/processes.js'
import { wrappedSqliteDriver } from '../support/wrapped-sqlite.js'

/** Runs `fn` and fails if it took longer than `ms` (a blocked event loop shows up here). */
async function within<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await fn()
  expect(performance.now() - started).toBeLessThan(ms)
  return result
}

describe('one file opened plainly and through a wrapped driver', () => {
  it('hands out distinct, increasing versionstamps to interleaved commits of both, in one process', async () => {
    const path = tempDbPath()
    const plain = await openTestDb(path)
    const wrapped = await openTestDb(path, { driver: wrappedSqliteDriver })
    const stamps: string[] = []
    for (let i = 0; i < 20; i++) {
      const db = i % 2 === 0 ? plain : wrapped
      const result = await within(1000, () => db.set(['k', i], i))
      stamps.push(result.versionstamp)
    }
    expect([...stamps].sort()).toEqual(stamps)
    expect(new Set(stamps).size).toBe(stamps.length)
  })

  it('runs overlapping commits of both in one process without stalling, none lost', async () => {
    const path = tempDbPath()
    const plain = await openTestDb(path)
    const wrapped = await openTestDb(path, { driver: wrappedSqliteDriver })
    const results = await within(2000, () =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? plain : wrapped).atomic().sum(['n'], 1n).set(['k', i], i).commit()),
      ),
    )
    const stamps = results.map((r) => (r.ok ? r.versionstamp : 'failed'))
    expect(new Set(stamps).size).toBe(40)
    expect((await plain.get(['n'])).value).toEqual(expect.objectContaining({ value: 40n }))
  })

  it('fails a stale check made through one against a change made through the other', async () => {
    const path = tempDbPath()
    const plain = await openTestDb(path)
    const wrapped = await openTestDb(path, { driver: wrappedSqliteDriver })
    await wrapped.set(['doc'], 'v1')
    const seen = await wrapped.get(['doc'])
    await plain.set(['doc'], 'v2')
    expect((await wrapped.atomic().check(seen).set(['doc'], 'overwrite').commit()).ok).toBe(false)
    const seenByPlain = await plain.get(['doc'])
    await wrapped.set(['doc'], 'v3')
    expect((await plain.atomic().check(seenByPlain).set(['doc'], 'overwrite').commit()).ok).toBe(false)
    expect((await plain.get(['doc'])).value).toBe('v3')
  })

  it('lets a plain commit start while a wrapped one holds its transaction, without blocking the event loop', async () => {
    const path = tempDbPath()
    const plain = await openTestDb(path)
    const wrapped = await openTestDb(path, { driver: wrappedSqliteDriver })
    // The wrapped commit holds BEGIN IMMEDIATE across awaits; start the plain one at every point of that window.
    for (let ticks = 0; ticks < 30; ticks++) {
      await within(1000, async () => {
        const first = wrapped.set(['w', ticks], ticks)
        for (let i = 0; i < ticks; i++) await Promise.resolve()
        const second = plain.set(['p', ticks], ticks)
        const [a, b] = await Promise.all([first, second])
        expect(a.versionstamp).not.toBe(b.versionstamp)
      })
    }
  })

  it('lets a second wrapped connection commit, and a new connection open, while one holds its transaction', async () => {
    const path = tempDbPath()
    const first = await openTestDb(path, { driver: wrappedSqliteDriver })
    const second = await openTestDb(path, { driver: wrappedSqliteDriver })
    for (let ticks = 0; ticks < 20; ticks++) {
      await within(1000, async () => {
        const a = first.set(['a', ticks], ticks)
        for (let i = 0; i < ticks; i++) await Promise.resolve()
        const b = second.set(['b', ticks], ticks)
        const opened = ticks % 5 === 0 ? openTestDb(path) : undefined
        const [x, y] = await Promise.all([a, b, opened])
        expect(x.versionstamp).not.toBe(y.versionstamp)
      })
    }
  })

  it('refuses the other serializer whichever way the file was created', async () => {
    const plainFirst = tempDbPath()
    await (await Valkeyrie.open(plainFirst)).close()
    const error = await rejection(Valkeyrie.open(plainFirst, { driver: wrappedSqliteDriver, serializer: jsonSerializer }))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/written with the v8 serializer, but was opened with the json serializer/)

    const wrappedFirst = tempDbPath()
    await (await Valkeyrie.open(wrappedFirst, { driver: wrappedSqliteDriver })).close()
    const reverse = await rejection(Valkeyrie.open(wrappedFirst, { serializer: jsonSerializer }))
    expect(reverse).toBeInstanceOf(OpenError)
    expect(reverse.message).toMatch(/written with the v8 serializer, but was opened with the json serializer/)
  })

  it('hands out distinct versionstamps to two processes, one plain and one wrapped, committing at once', async () => {
    const path = tempDbPath()
    await (await Valkeyrie.open(path)).close()
    const runs = await Promise.all([runWorker(['stamps', path, '150']), runWorker(['stamps-wrapped', path, '150'])])
    const stamps: string[] = []
    for (const run of runs) {
      expect(run, run.stderr).toMatchObject({ code: 0 })
      const own = JSON.parse(run.stdout) as string[]
      expect([...own].sort()).toEqual(own)
      stamps.push(...own)
    }
    expect(new Set(stamps).size).toBe(300)
    const db = await openTestDb(path)
    expect((await db.get(['counter'])).value).toEqual(expect.objectContaining({ value: 300n }))
  })

  it('folds the records an older wrapped driver kept as kv rows into the one counter and serializer record', async () => {
    for (const withMeta of [true, false]) {
      const path = tempDbPath()
      await (await Valkeyrie.open(path)).close()
      // As an earlier version left a file written through a wrapped sqliteDriver: its counter at 50 in a kv row.
      const raw = new Database(path)
      raw.prepare('INSERT INTO kv (key, value, encoding, version) VALUES (?, ?, ?, ?)').run(Buffer.from('\xffversion', 'latin1'), Buffer.alloc(0), 0, 50)
      raw.prepare('INSERT INTO kv (key, value, encoding, version) VALUES (?, ?, ?, ?)').run(Buffer.from('\xffserializer', 'latin1'), Buffer.from('8'), 'v'.charCodeAt(0), 0)
      if (!withMeta) raw.exec('DELETE FROM kv_meta')
      raw.close()
      const refused = await rejection(Valkeyrie.open(path, { serializer: jsonSerializer }))
      expect(refused.message).toMatch(/written with the v8 serializer/)
      const db = await openTestDb(path)
      expect((await db.set(['after'], 1)).versionstamp).toBe(toVersionstamp(51))
      const check = new Database(path, { readonly: true })
      expect(check.prepare("SELECT count(*) AS n FROM kv WHERE key >= x'ff'").get()).toEqual({ n: 0 })
      check.close()
    }
  })
})
