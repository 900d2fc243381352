import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DatabaseClosedError, KvU64, limits, type KvEntryMaybe, type Valkeyrie } from '../../src/index.js'
import { describeBackends, newSchemaName, postgres, postgresPlace, postgresUrl } from '../support/backends.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'
import { startWorker } from '../support/processes.js'
import { follow } from '../support/watch.js'
import { fileURLToPath } from 'node:url'

const WATCH_WORKER = fileURLToPath(new URL('../support/watch-worker.ts', import.meta.url))

const values = (state: readonly KvEntryMaybe[]): unknown[] => state.map((entry) => entry.value)

describeBackends('watch', (backend) => {
  it('first emits the current state of the keys, nulls for absent ones, in the order given', async () => {
    const db = await backend.open()
    const none = follow(db.watch([['a'], ['b']]))
    expect(await none.next()).toEqual([
      { key: ['a'], value: null, versionstamp: null },
      { key: ['b'], value: null, versionstamp: null },
    ])
    const { versionstamp } = await db.set(['b'], 'B')
    const some = follow(db.watch([['b'], ['a']]))
    expect(await some.next()).toEqual([
      { key: ['b'], value: 'B', versionstamp },
      { key: ['a'], value: null, versionstamp: null },
    ])
    await none.cancel()
    await some.cancel()
  })

  it('emits when a watched key is set, deleted, written atomically or summed, and when the same value is set again', async () => {
    const db = await backend.open()
    const watch = follow(db.watch<[string, KvU64]>([['k'], ['n']]))
    expect(values(await watch.next())).toEqual([null, null])
    const first = await db.set(['k'], 'v1')
    const state = await watch.next()
    expect(state[0]).toEqual({ key: ['k'], value: 'v1', versionstamp: first.versionstamp })
    const again = await db.set(['k'], 'v1')
    expect((await watch.next())[0].versionstamp).toBe(again.versionstamp)
    await db.delete(['k'])
    expect(values(await watch.next())).toEqual([null, null])
    const atomic = await db.atomic().check({ key: ['k'], versionstamp: null }).set(['k'], 'v2').sum(['n'], new KvU64(5n)).commit()
    expect(atomic.ok).toBe(true)
    const both = await watch.next()
    expect(values(both)).toEqual(['v2', new KvU64(5n)])
    expect(both.map((e) => e.versionstamp)).toEqual([(atomic as { versionstamp: string }).versionstamp, (atomic as { versionstamp: string }).versionstamp])
    await db.atomic().sum(['n'], new KvU64(2n)).commit()
    expect((await watch.next())[1].value).toEqual(new KvU64(7n))
    await watch.cancel()
  })

  it('emits nothing for writes to other keys, failed checks or deleting an absent key', async () => {
    const db = await backend.open()
    await db.set(['k'], 1)
    const watch = follow(db.watch([['k']]))
    expect(values(await watch.next())).toEqual([1])
    await db.set(['other'], 1)
    await db.set(['k', 'child'], 1)
    await db.delete(['absent'])
    const failed = await db.atomic().check({ key: ['k'], versionstamp: null }).set(['k'], 2).commit()
    expect(failed.ok).toBe(false)
    await watch.nothingFor(300)
    await db.set(['k'], 3)
    expect(values(await watch.next())).toEqual([3])
    await watch.cancel()
  })

  it('gives a slow reader the latest state, never a backlog', async () => {
    const db = await backend.open()
    const watch = follow(db.watch<[number]>([['n']]))
    expect(values(await watch.next())).toEqual([null])
    for (let i = 1; i <= 100; i++) await db.set(['n'], i)
    const seen = await watch.until((state) => state[0].value === 100)
    // At most the state waiting for the reader, the state of a re-read under way when the last commit came (on a
    // busy machine the reader may take the first before the second lands), then the latest one: not 100.
    expect(seen.length).toBeLessThanOrEqual(3)
    await watch.nothingFor(100)
    await watch.cancel()
  })

  it('50 watchers x 1,000 commits: each ends on the final state and never goes back to an older one', async () => {
    const db = await backend.open()
    const watchers = Array.from({ length: 50 }, () => follow(db.watch<[number, number]>([['count'], ['other']])))
    const runs = watchers.map(async (watch) => {
      const seen: number[] = []
      for (;;) {
        const [count] = await watch.next(60_000)
        const n = count.value ?? 0
        if (seen.length > 0) expect(n).toBeGreaterThan(seen[seen.length - 1] as number)
        seen.push(n)
        if (n === 1000) return seen
      }
    })
    // Ten commits at a time: several per group, many groups.
    for (let i = 1; i <= 1000; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => db.set(['count'], i + j)))
    }
    const seen = await Promise.all(runs)
    for (const s of seen) expect(s[s.length - 1]).toBe(1000)
    await Promise.all(watchers.map((w) => w.cancel()))
  }, 120_000)

  it('emits null when a watched entry expires', async () => {
    const db = await backend.open()
    await db.set(['session'], 'token', { expireIn: 300 })
    await db.set(['stays'], 'x')
    const watch = follow(db.watch([['session'], ['stays']]))
    expect(values(await watch.next())).toEqual(['token', 'x'])
    const started = Date.now()
    expect(values(await watch.next(5000))).toEqual([null, 'x'])
    expect(Date.now() - started).toBeLessThan(3000)
    await watch.cancel()
  })

  it('with raw: true, emits the first state and every change', async () => {
    const db = await backend.open()
    const watch = follow(db.watch([['k']], { raw: true }))
    expect(values(await watch.next())).toEqual([null])
    await db.set(['k'], 1)
    const seen = await watch.until((s) => s[0]?.value === 1)
    expect(seen.at(-1)?.[0]?.value).toBe(1)
    await watch.cancel()
  })

  it('refuses more than 10 keys, invalid keys and options, synchronously and before watching anything', async () => {
    const db = await backend.open()
    const eleven = Array.from({ length: limits.MAX_WATCH_KEYS + 1 }, (_, i) => ['k', i])
    expect(() => db.watch(eleven)).toThrow(RangeError)
    expect(() => db.watch(eleven)).toThrow(/max 10/)
    expect(() => db.watch(Array.from({ length: 10 }, (_, i) => ['k', i]))).not.toThrow()
    expect(() => db.watch('k' as never)).toThrow(TypeError)
    expect(() => db.watch([['ok'], [{} as never]])).toThrow(TypeError)
    expect(() => db.watch([['x'.repeat(limits.MAX_KEY_BYTES + 1)]])).toThrow(RangeError)
    expect(() => db.watch([['k']], { raw: 1 } as never)).toThrow(TypeError)
    expect(() => db.watch([['k']], { rwa: true } as never)).toThrow(TypeError)
    expect(() => db.watch([['k']], 'raw' as never)).toThrow(TypeError)
  })

  it('stops on cancel, and close() ends every stream; watch on a closed database throws', async () => {
    const db = await backend.open()
    const cancelled = follow(db.watch([['k']]))
    await cancelled.next()
    await cancelled.cancel()
    const a = follow(db.watch([['k']]))
    const b = follow(db.watch([['j']]))
    await a.next()
    await db.set(['k'], 1)
    await db.close()
    // What was produced before the close may still be read; then the end.
    await a.until(() => true).catch(() => {})
    await b.ended().catch(async () => b.ended())
    expect(() => db.watch([['k']])).toThrow(DatabaseClosedError)
  })

  it('watches collection records, typed and shaped by the schema', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], z.object({ name: z.string(), age: z.number().default(0) }))
    const one = follow(users.watch('ada'))
    expect(await one.next()).toEqual({ id: 'ada', key: ['users', 'ada'], value: null, versionstamp: null })
    const { versionstamp } = await users.set('ada', { name: 'Ada' })
    expect(await one.next()).toEqual({ id: 'ada', key: ['users', 'ada'], value: { name: 'Ada', age: 0 }, versionstamp })
    const many = follow(users.watchMany(['bob', 'ada']))
    expect((await many.next()).map((e) => e.value?.name ?? null)).toEqual([null, 'Ada'])
    await users.set('bob', { name: 'Bob', age: 3 })
    expect((await many.next()).map((e) => [e.id, e.value?.age ?? null])).toEqual([['bob', 3], ['ada', 0]])
    expect(() => users.watchMany('ada' as never)).toThrow(TypeError)
    await one.cancel()
    await many.cancel()
  })

  it.runIf(backend.persistent)('sees commits of another instance on the same database', async () => {
    const place = backend.create()
    const watcher = await place.open()
    const writer = await place.open()
    const watch = follow(watcher.watch<[number]>([['shared']]))
    expect(values(await watch.next())).toEqual([null])
    const { versionstamp } = await writer.set(['shared'], 1)
    const state = await watch.next(5000)
    expect(state[0]).toEqual({ key: ['shared'], value: 1, versionstamp })
    await writer.set(['unrelated'], 1)
    await writer.atomic().check({ key: ['shared'], versionstamp: null }).set(['shared'], 2).commit()
    await watch.nothingFor(300)
    await writer.delete(['shared'])
    expect(values(await watch.next(5000))).toEqual([null])
    await watch.cancel()
  })
})

/** The place argument of the watch worker for a new database, and (but in memory) a way to open it here. */
function workerPlace(backend: 'sqlite-file' | 'postgres' | 'memory'): { arg: string; open?: () => Promise<Valkeyrie> } {
  if (backend === 'memory') return { arg: ':memory:' }
  if (backend === 'sqlite-file') {
    const path = tempDbPath()
    return { arg: path, open: () => openTestDb(path) }
  }
  const schema = newSchemaName('watch')
  const place = postgresPlace(schema)
  return { arg: `${postgresUrl()}#${schema}`, open: () => place.open() }
}

describe('watch across processes', () => {
  const rows = [
    { name: 'sqlite-file' as const, skip: false },
    { name: 'postgres' as const, skip: postgres.unavailable !== undefined },
  ]
  for (const row of rows) {
    it.skipIf(row.skip)(`[${row.name}] a commit from another process reaches the watcher`, async () => {
      const { arg, open } = workerPlace(row.name)
      const db = await (open as () => Promise<Valkeyrie>)()
      const watch = follow(db.watch<[number]>([['shared']]))
      expect(values(await watch.next())).toEqual([null])
      for (const value of [1, 2]) {
        const child = startWorker(['write', arg, String(value)], WATCH_WORKER)
        expect((await child.exited).code, child.stderr()).toBe(0)
        const seen = await watch.until((s) => s[0].value === value, 10_000)
        expect(seen.at(-1)?.[0].value).toBe(value)
      }
      await watch.cancel()
    }, 60_000)
  }

  const exits = [
    { name: 'memory' as const, skip: false },
    { name: 'sqlite-file' as const, skip: false },
    { name: 'postgres' as const, skip: postgres.unavailable !== undefined },
  ]
  for (const row of exits) {
    // Child processes take seconds to start under load: the four of a row run side by side.
    it.skipIf(row.skip)(`[${row.name}] a process that watched exits by itself after cancel, break or close, and not while watching`, async () => {
      const { arg, open } = workerPlace(row.name)
      if (open) await (await open()).set(['shared'], 7)
      const first = { first: open ? 7 : null }
      const ends = (['cancel', 'break', 'close'] as const).map(async (mode) => {
        const child = startWorker(['watch-then', arg, mode], WATCH_WORKER)
        const timer = setTimeout(() => child.child.kill('SIGKILL'), 45_000)
        const { code, signal } = await child.exited.finally(() => clearTimeout(timer))
        expect(signal, `${mode}: did not exit by itself: ${child.stdout()} ${child.stderr()}`).toBeNull()
        expect(code, child.stderr()).toBe(0)
        expect(child.lines[0]).toEqual(first)
        if (mode === 'close') expect(child.lines[1]).toEqual({ after: { done: true } })
      })
      const keeps = (async () => {
        const child = startWorker(['watch-then', arg, 'keep'], WATCH_WORKER)
        try {
          const deadline = Date.now() + 45_000
          while (child.lines.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
          expect(child.lines, child.stderr()).toEqual([first, { done: 'keep' }])
          const exited = await Promise.race([child.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 1000))])
          expect(exited).toBe(false)
        } finally {
          child.child.kill('SIGKILL')
          await child.exited
        }
      })()
      await Promise.all([...ends, keeps])
    }, 90_000)
  }
})
