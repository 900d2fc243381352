import { spawn } from 'node:child_process'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { KvU64 } from '../../src/index.js'
import { type Place, describeBackends } from '../support/backends.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'

/** The kv table's row count, expired rows included. */
const rows = (place: Place): Promise<number> => (place.raw as NonNullable<Place['raw']>).count()

const rowCount = (path: string): number => {
  const raw = new Database(path, { readonly: true })
  try {
    return (raw.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n
  } finally {
    raw.close()
  }
}

/** A child process that holds the write lock of the file at `path` (BEGIN IMMEDIATE) for `ms` milliseconds. */
function holdWriteLock(path: string, ms: number): { locked: Promise<void>; done: Promise<void> } {
  const script = `
    const Database = require('better-sqlite3')
    const db = new Database(process.argv[1])
    db.exec('BEGIN IMMEDIATE')
    process.stdout.write('locked\\n')
    setTimeout(() => { db.exec('COMMIT'); db.close() }, Number(process.argv[2]))
  `
  const child = spawn(process.execPath, ['-e', script, path, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve())
    child.on('exit', (code) => reject(new Error(`lock holder exited early with code ${code}`)))
  })
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  return { locked, done }
}

describeBackends('expiry', (backend) => {
  it('hides an entry from every read from the moment it expires, and not before', async () => {
    let now = 1_000_000
    const db = await backend.open({ clock: () => now })
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
    const db = await backend.open({ clock: () => now })
    await db.set(['k'], 'x', { expireIn: 10 })
    now += 10
    expect((await db.atomic().check({ key: ['k'], versionstamp: null }).set(['k'], 'y').commit()).ok).toBe(true)
    expect((await db.get(['k'])).value).toBe('y')
  })

  it('expires at once with expireIn 0', async () => {
    const db = await backend.open()
    await db.set(['gone'], 1, { expireIn: 0 })
    expect((await db.get(['gone'])).value).toBeNull()
  })

  it('clears expiry when a key is written again without expireIn', async () => {
    let now = 1_000_000
    const db = await backend.open({ clock: () => now })
    await db.set(['k'], 1, { expireIn: 10 })
    await db.set(['k'], 2)
    now += 1000
    expect((await db.get(['k'])).value).toBe(2)
  })

  if (backend.rows) it('deletes expired rows with cleanup() and leaves live ones', async () => {
    let now = 1_000_000
    const place = backend.create()
    const db = await place.open({ clock: () => now, sweepInterval: 0 })
    for (let i = 0; i < 2500; i++) await db.atomic().set(['e', i], i, { expireIn: 100 }).commit()
    await db.set(['live'], 1, { expireIn: 10_000 })
    await db.set(['forever'], 1)
    expect(await rows(place)).toBe(2502)
    await db.cleanup()
    expect(await rows(place)).toBe(2502) // nothing is deleted before its time
    now += 100
    await db.cleanup()
    expect(await rows(place)).toBe(2)
  })

  if (backend.rows) it('deletes an expired row a read finds with the next commit, never with a write of its own', async () => {
    let now = 1_000_000
    const place = backend.create()
    const db = await place.open({ clock: () => now, sweepInterval: 0 })
    await db.set(['a'], 1, { expireIn: 5 })
    await db.set(['b'], 1, { expireIn: 5 })
    now += 5
    await db.get(['a'])
    await Array.fromAsync(db.list({ prefix: [] }))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await rows(place)).toBe(2)
    await db.set(['other'], 1)
    expect(await rows(place)).toBe(1)
  })

  if (backend.rows) it('sweeps expired rows in the background on a timer', async () => {
    const place = backend.create()
    const db = await place.open({ sweepInterval: 20 })
    await db.set(['a'], 1, { expireIn: 1 })
    await db.set(['b'], 1)
    const deadline = Date.now() + 5000
    while (await rows(place) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await rows(place)).toBe(1)
  })
  if (backend.rows) it('keeps up with a backlog: one sweep deletes every expired row, a batch per transaction', async () => {
    let now = 1_000_000
    const place = backend.create()
    const db = await place.open({ clock: () => now, sweepInterval: 1000 })
    await Promise.all(
      Array.from({ length: 20 }, (_, c) => {
        const op = db.atomic()
        for (let i = 0; i < 1000; i++) op.set(['e', c, i], i, { expireIn: 1000 })
        return op.commit()
      }),
    )
    await db.set(['live'], 1)
    expect(await rows(place)).toBe(20_001)
    now += 1000
    // Three intervals at most: one batch per interval would have deleted at most 3,000 of the 20,000 rows.
    const deadline = Date.now() + 3000
    while (await rows(place) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await rows(place)).toBe(1)
  })

  if (backend.rows) it('stops a running sweep promptly on close', async () => {
    let now = 1_000_000
    const place = backend.create()
    const db = await place.open({ clock: () => now, sweepInterval: 50 })
    await Promise.all(
      Array.from({ length: 50 }, (_, c) => {
        const op = db.atomic()
        for (let i = 0; i < 1000; i++) op.set(['e', c, i], i, { expireIn: 10 })
        return op.commit()
      }),
    )
    now += 10
    const deadline = Date.now() + 5000
    while (await rows(place) === 50_000 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve))
    const started = performance.now()
    await db.close()
    expect(performance.now() - started).toBeLessThan(1000)
    const left = await rows(place)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThan(50_000)
    expect(left % 1000).toBe(0)
  })

  it('keeps the expiry of a counter through sum, min and max (the rate-limit pattern)', async () => {
    let now = 1_000_000
    const db = await backend.open({ clock: () => now })
    await db.set(['hits', 'ada'], new KvU64(0n), { expireIn: 60_000 })
    await db.atomic().sum(['hits', 'ada'], 1n).commit()
    await db.atomic().max(['hits', 'ada'], 5n).min(['hits', 'ada'], 3n).commit()
    now += 59_999
    expect((await db.get<KvU64>(['hits', 'ada'])).value?.value).toBe(3n)
    now += 1
    expect((await db.get(['hits', 'ada'])).value).toBeNull()
    // An absent (or expired) counter starts from the operand, without expiry.
    await db.atomic().sum(['hits', 'ada'], 1n).commit()
    now += 10 ** 9
    expect((await db.get<KvU64>(['hits', 'ada'])).value?.value).toBe(1n)
  })
})

describe('expiry on a SQLite file another process holds locked', () => {
  it('answers a read of an expired key at once while another process holds the write lock', async () => {
    let now = 1_000_000
    const path = tempDbPath()
    const db = await openTestDb(path, { clock: () => now, sweepInterval: 0, busyTimeout: 3000 })
    await db.set(['a'], 1, { expireIn: 5 })
    now += 5
    const holder = holdWriteLock(path, 2000)
    await holder.locked
    try {
      let longestGap = 0
      let last = performance.now()
      const ticker = setInterval(() => {
        const t = performance.now()
        longestGap = Math.max(longestGap, t - last)
        last = t
      }, 5)
      const started = performance.now()
      const entry = await db.get(['a'])
      const took = performance.now() - started
      await new Promise((resolve) => setTimeout(resolve, 300))
      clearInterval(ticker)
      expect(entry.value).toBeNull()
      expect(took).toBeLessThan(100)
      expect(longestGap).toBeLessThan(200)
    } finally {
      await holder.done
    }
    // The lock is free again: the next commit deletes the row the read found.
    await db.set(['other'], 1)
    expect(rowCount(path)).toBe(1)
  })
})
