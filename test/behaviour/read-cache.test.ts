/**
 * The read cache of the SQLite storage (src/storage/sqlite/read-cache.ts): a repeated `get` of a key nothing has
 * changed answers from memory, and must still be exact whoever changes the key (another process, another connection
 * of this process, this database's own commits) and whenever the entry expires.
 */
import { describe, expect, it } from 'vitest'
import { KvU64 } from '../../src/index.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'
import { spawnSync } from 'node:child_process'
import Database from 'better-sqlite3'
import { runWorker, runWorkerSync, startWorker } from '../support/processes.js'

/** Reads a key a few times, so it is surely in the cache. */
async function readHot(db: Awaited<ReturnType<typeof openTestDb>>, key: string[]) {
  let entry = await db.get(key)
  for (let i = 0; i < 3; i++) entry = await db.get(key)
  return entry
}

describe('the read cache', () => {
  it('sees what another process sets and deletes', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path)
    await db.set(['a'], 'mine')
    await db.set(['b'], 'kept')
    expect((await readHot(db, ['a'])).value).toBe('mine')
    expect((await readHot(db, ['b'])).value).toBe('kept')
    const set = await runWorker(['write', path, JSON.stringify([[['a'], 'theirs']])])
    expect(set, set.stderr).toMatchObject({ code: 0 })
    const stamp = (JSON.parse(set.stdout) as { stamps: string[] }).stamps[0]
    expect(await db.get(['a'])).toEqual({ key: ['a'], value: 'theirs', versionstamp: stamp })
    expect((await readHot(db, ['a'])).value).toBe('theirs')
    const removed = await runWorker(['write', path, JSON.stringify([[['a'], null]])])
    expect(removed, removed.stderr).toMatchObject({ code: 0 })
    expect(await db.get(['a'])).toEqual({ key: ['a'], value: null, versionstamp: null })
    // A key the other process did not touch still reads right.
    expect((await db.get(['b'])).value).toBe('kept')
  })

  it('never returns an older value than the last one another process committed before the read', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path)
    await db.set(['n'], 0)
    const writer = startWorker(['count-up', path, '300'])
    const done = writer.exited
    let finished = false
    void done.then(() => (finished = true))
    let last = 0
    let reads = 0
    while (!finished) {
      const value = (await db.get<number>(['n'])).value as number
      expect(value).toBeGreaterThanOrEqual(last)
      last = value
      reads++
      if (reads % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    expect(await done, writer.stderr()).toMatchObject({ code: 0 })
    expect((await db.get(['n'])).value).toBe(300)
    expect(reads).toBeGreaterThan(0)
  })

  it('sees a commit another process made while this turn of the event loop waited, after a WAL restart too', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path)
    await db.set(['k'], 'first')
    expect((await readHot(db, ['k'])).value).toBe('first')
    // Another connection empties the WAL: the next commit restarts it from its first frame.
    const other = new Database(path)
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }])
    other.close()
    expect((await readHot(db, ['k'])).value).toBe('first')
    // No await between the other process's commit and the read: nothing but the read itself can notice it.
    const reads: Promise<unknown>[] = []
    for (const value of ['second', 'third']) {
      const run = runWorkerSync(['write', path, JSON.stringify([[['k'], value]])])
      expect(run, run.stderr).toMatchObject({ code: 0 })
      reads.push(db.get(['k']).then((entry) => entry.value))
    }
    expect(await Promise.all(reads)).toEqual(['second', 'third'])
  })

  it("closing a database keeps the locks another connection of this process holds on the file", async () => {
    const path = tempDbPath()
    const db = await openTestDb(path)
    await db.set(['k'], 1)
    await readHot(db, ['k'])
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    try {
      await db.close()
      // Another process must still find the write lock taken.
      const probe = spawnSync(
        process.execPath,
        ['-e', `const D = require('better-sqlite3'); const d = new D(process.argv[1]); d.pragma('busy_timeout = 0'); try { d.exec('BEGIN IMMEDIATE'); console.log('taken') } catch (e) { console.log(e.code) }`, path],
        { encoding: 'utf8' },
      )
      expect(probe.stdout.trim(), probe.stderr).toBe('SQLITE_BUSY')
    } finally {
      other.exec('COMMIT')
      other.close()
    }
  })

  it('sees what another connection of this process commits', async () => {
    const path = tempDbPath()
    const a = await openTestDb(path)
    const b = await openTestDb(path)
    await a.set(['k'], 1)
    expect((await readHot(a, ['k'])).value).toBe(1)
    const { versionstamp } = await b.set(['k'], 2)
    expect(await a.get(['k'])).toEqual({ key: ['k'], value: 2, versionstamp })
    await b.atomic().sum(['c'], 5n).commit()
    expect((await readHot(a, ['c'])).value).toEqual(new KvU64(5n))
    await b.atomic().sum(['c'], 1n).commit()
    expect((await a.get(['c'])).value).toEqual(new KvU64(6n))
    await b.delete(['k'])
    expect((await a.get(['k'])).value).toBeNull()
  })

  it("follows this database's own commits: sets, atomics, failed checks, deletes", async () => {
    const db = await openTestDb(tempDbPath())
    const first = await db.set(['k'], 'one')
    expect(await readHot(db, ['k'])).toEqual({ key: ['k'], value: 'one', versionstamp: first.versionstamp })
    const second = await db.set(['k'], 'two')
    expect(await db.get(['k'])).toEqual({ key: ['k'], value: 'two', versionstamp: second.versionstamp })
    const entry = await readHot(db, ['k'])
    const third = await db.atomic().check(entry).set(['k'], 'three').sum(['c'], 1n).commit()
    expect(third.ok).toBe(true)
    expect((await db.get(['k'])).value).toBe('three')
    // A stale check fails and changes nothing.
    expect((await db.atomic().check(entry).set(['k'], 'four').commit()).ok).toBe(false)
    expect((await readHot(db, ['k'])).value).toBe('three')
    // A commit that fails on a mutation (sum over a string) changes nothing either.
    await expect(db.atomic().set(['k'], 'five').sum(['k'], 1n).commit()).rejects.toThrow(TypeError)
    expect((await db.get(['k'])).value).toBe('three')
    await db.delete(['k'])
    expect(await db.get(['k'])).toEqual({ key: ['k'], value: null, versionstamp: null })
  })

  it('does not return a cached entry once it has expired', async () => {
    let now = 1_700_000_000_000
    const db = await openTestDb(tempDbPath(), { clock: () => now, sweepInterval: 0 })
    await db.set(['temp'], 'soon gone', { expireIn: 1000 })
    expect((await readHot(db, ['temp'])).value).toBe('soon gone')
    now += 999
    expect((await db.get(['temp'])).value).toBe('soon gone')
    now += 1
    expect(await db.get(['temp'])).toEqual({ key: ['temp'], value: null, versionstamp: null })
    expect((await db.getMany([['temp']])).at(0)?.value).toBeNull()
  })

  it('does not return an entry another process wrote with an expiry, once it has expired', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path)
    await db.set(['temp'], 'old')
    expect((await readHot(db, ['temp'])).value).toBe('old')
    const run = await runWorker(['write', path, JSON.stringify([[['temp'], 'brief', 300]])])
    expect(run, run.stderr).toMatchObject({ code: 0 })
    const seen = (await readHot(db, ['temp'])).value
    // The worker may have taken longer than 300 ms to start and write: then the entry is already gone.
    expect(['brief', null]).toContain(seen)
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect((await db.get(['temp'])).value).toBeNull()
  })

  it('keeps read-only opens exact too', async () => {
    const path = tempDbPath()
    const writer = await openTestDb(path)
    await writer.set(['k'], 1)
    const reader = await openTestDb(path, { readOnly: true })
    expect((await readHot(reader, ['k'])).value).toBe(1)
    await writer.set(['k'], 2)
    expect((await reader.get(['k'])).value).toBe(2)
  })
})
