/**
 * The driver contract suite (`valkeyrie/testing`): the library's behaviour tests, run through `Valkeyrie.open`
 * over a driver. A driver that passes it keeps every guarantee of the library. It uses `node:assert` and takes
 * the test runner's `describe` and `it`, so it runs under vitest, jest, mocha or `node:test` alike.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DriverFactory, KvDriver } from '../storage/driver.js'
import { jsonSerializer } from '../serializers/json.js'
import type { KvEntry, KvKey } from '../types.js'
import { KvU64 } from '../u64.js'
import { Valkeyrie, type ValkeyrieOptions } from '../valkeyrie.js'

export interface DriverContractOptions {
  /** The driver under test: a `defineDriver` factory. Each test calls it with a path in a new empty folder. */
  driver: DriverFactory | (() => KvDriver)
  /** The test runner's `describe` and `it` (vitest, jest, mocha and `node:test` all fit). */
  describe: (name: string, fn: () => void) => unknown
  it: (name: string, fn: () => Promise<void>, timeout?: number) => unknown
  /** Whether data outlives `close()` at the same path (a file-backed driver): adds the reopen tests. */
  persistent?: boolean
}

const keysOf = (entries: KvEntry[]): KvKey[] => entries.map((e) => e.key)

/** Registers the contract tests for a driver. */
export function driverContract(options: DriverContractOptions): void {
  const { describe, it, persistent = false } = options
  const driver = options.driver as DriverFactory

  /** Runs `fn` with a database over the driver at a fresh path; closes it and removes the folder after. */
  async function withDb(fn: (db: Valkeyrie, path: string) => Promise<void>, extra: ValkeyrieOptions = {}): Promise<void> {
    const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-driver-'))
    const path = join(folder, 'contract.db')
    const db = await Valkeyrie.open(path, { ...extra, driver })
    try {
      await fn(db, path)
    } finally {
      await db.close()
      rmSync(folder, { recursive: true, force: true })
    }
  }

  describe('driver contract: reads and writes', () => {
    it('reads back what was written, with increasing versionstamps', () =>
      withDb(async (db) => {
        const a = await db.set(['users', 'ada'], { name: 'Ada', born: new Date('1815-12-10') })
        const b = await db.set(['users', 'alan'], { name: 'Alan' })
        assert.ok(a.versionstamp < b.versionstamp)
        assert.deepEqual(await db.get(['users', 'ada']), {
          key: ['users', 'ada'],
          value: { name: 'Ada', born: new Date('1815-12-10') },
          versionstamp: a.versionstamp,
        })
        assert.deepEqual(await db.get(['users', 'nobody']), { key: ['users', 'nobody'], value: null, versionstamp: null })
      }))

    it('overwrites and deletes', () =>
      withDb(async (db) => {
        await db.set(['k'], 1)
        await db.set(['k'], 2)
        assert.equal((await db.get(['k'])).value, 2)
        await db.delete(['k'])
        assert.equal((await db.get(['k'])).value, null)
      }))

    it('reads many keys in request order', () =>
      withDb(async (db) => {
        await db.set(['a'], 'A')
        await db.set(['c'], 'C')
        const entries = await db.getMany([['c'], ['b'], ['a']])
        assert.deepEqual(entries.map((e) => e.value), ['C', null, 'A'])
      }))

    it('keeps KvU64 values and every key part type', () =>
      withDb(async (db) => {
        const keys: KvKey[] = [['t', new Uint8Array([0, 1])], ['t', 'x\0y'], ['t', -5n], ['t', 2n ** 70n], ['t', -0], ['t', 0], ['t', NaN], ['t', false], ['t', true]]
        for (const [i, key] of keys.entries()) await db.set(key, new KvU64(BigInt(i)))
        for (const [i, key] of keys.entries()) assert.deepEqual((await db.get(key)).value, new KvU64(BigInt(i)))
        assert.deepEqual(keysOf(await Array.fromAsync(db.list({ prefix: ['t'] }))), keys)
      }))
  })

  describe('driver contract: list', () => {
    async function seed(db: Valkeyrie): Promise<void> {
      await db.set(['p'], 'the prefix itself')
      const op = db.atomic()
      for (let i = 0; i < 30; i++) op.set(['p', i], i)
      await op.commit()
      await db.set(['q', 0], 'after')
    }

    it('lists a prefix in key order, without the prefix key, in small batches', () =>
      withDb(async (db) => {
        await seed(db)
        const all = await Array.fromAsync(db.list<number>({ prefix: ['p'] }, { batchSize: 4 }))
        assert.deepEqual(all.map((e) => e.value), Array.from({ length: 30 }, (_, i) => i))
      }))

    it('lists ranges, in reverse, with limits', () =>
      withDb(async (db) => {
        await seed(db)
        const range = await Array.fromAsync(db.list<number>({ prefix: ['p'], start: [10], end: [13] }))
        assert.deepEqual(range.map((e) => e.value), [10, 11, 12])
        const reversed = await Array.fromAsync(db.list<number>({ prefix: ['p'] }, { reverse: true, limit: 3, batchSize: 2 }))
        assert.deepEqual(reversed.map((e) => e.value), [29, 28, 27])
        const startEnd = await Array.fromAsync(db.list({ start: ['p', 28], end: ['q', 1] }))
        assert.deepEqual(keysOf(startEnd), [['p', 28], ['p', 29], ['q', 0]])
      }))

    it('pages with cursors in both directions', () =>
      withDb(async (db) => {
        await seed(db)
        for (const reverse of [false, true]) {
          const seen: number[] = []
          let cursor = ''
          for (;;) {
            const it = db.list<number>({ prefix: ['p'] }, { limit: 7, cursor, reverse })
            const page = await Array.fromAsync(it)
            if (page.length === 0) break
            seen.push(...page.map((e) => e.value))
            cursor = it.cursor
          }
          const expected = Array.from({ length: 30 }, (_, i) => i)
          assert.deepEqual(seen, reverse ? expected.reverse() : expected)
        }
      }))
  })

  describe('driver contract: atomic', () => {
    it('applies checks first and all mutations or none', () =>
      withDb(async (db) => {
        const first = await db.set(['balance'], 10)
        await db.set(['balance'], 20)
        const failed = await db.atomic()
          .check({ key: ['balance'], versionstamp: first.versionstamp })
          .set(['balance'], 0)
          .set(['audit'], 'x')
          .commit()
        assert.deepEqual(failed, { ok: false })
        assert.equal((await db.get(['audit'])).value, null)
        const entry = await db.get<number>(['balance'])
        const ok = await db.atomic()
          .check({ key: ['balance'], versionstamp: entry.versionstamp })
          .check({ key: ['audit'], versionstamp: null })
          .set(['balance'], 0)
          .set(['audit'], 'x')
          .commit()
        assert.equal(ok.ok, true)
        const [balance, audit] = await db.getMany([['balance'], ['audit']])
        assert.equal(balance?.versionstamp, ok.ok ? ok.versionstamp : undefined)
        assert.equal(audit?.versionstamp, ok.ok ? ok.versionstamp : undefined)
      }))

    it('sums, mins and maxes, and rejects sum on a non-KvU64 applying nothing', () =>
      withDb(async (db) => {
        await db.atomic().sum(['n'], 5n).commit()
        await db.atomic().sum(['n'], -2n).max(['hi'], 7n).min(['lo'], 7n).commit()
        await db.atomic().max(['hi'], 3n).min(['lo'], 3n).commit()
        const values = (await db.getMany([['n'], ['hi'], ['lo']])).map((e) => (e.value as KvU64).value)
        assert.deepEqual(values, [3n, 7n, 3n])
        await db.set(['text'], 'abc')
        await assert.rejects(db.atomic().set(['side'], 1).sum(['text'], 1n).commit(), TypeError)
        assert.equal((await db.get(['side'])).value, null)
      }))

    it('never loses an update under 100 overlapping commits', () =>
      withDb(async (db) => {
        const results = await Promise.all(Array.from({ length: 100 }, () => db.atomic().sum(['hits'], 1n).commit()))
        assert.ok(results.every((r) => r.ok))
        assert.equal(((await db.get(['hits'])).value as KvU64).value, 100n)
        assert.equal(new Set(results.map((r) => (r.ok ? r.versionstamp : ''))).size, 100)
      }))

    it('lets exactly one of several overlapping check-and-sets win', () =>
      withDb(async (db) => {
        const { versionstamp } = await db.set(['slot'], 'free')
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => db.atomic().check({ key: ['slot'], versionstamp }).set(['slot'], i).commit()),
        )
        const winners = results.flatMap((r, i) => (r.ok ? [i] : []))
        assert.equal(winners.length, 1)
        assert.equal((await db.get(['slot'])).value, winners[0])
      }))

    it('runs overlapping read-check-set loops to an exact count', () =>
      withDb(async (db) => {
        const worker = async (): Promise<void> => {
          for (let done = 0; done < 10; ) {
            const entry = await db.get<number>(['count'])
            const result = await db.atomic()
              .check({ key: ['count'], versionstamp: entry.versionstamp })
              .set(['count'], (entry.value ?? 0) + 1)
              .commit()
            if (result.ok) done++
          }
        }
        await Promise.all([worker(), worker(), worker(), worker()])
        assert.equal((await db.get(['count'])).value, 40)
      }))
  })

  describe('driver contract: expiry', () => {
    it('hides expired entries from every read and deletes them with cleanup()', async () => {
      let now = 1_700_000_000_000
      await withDb(
        async (db) => {
          await db.set(['s', 'short'], 1, { expireIn: 1000 })
          await db.set(['s', 'long'], 2, { expireIn: 5000 })
          await db.set(['s', 'forever'], 3)
          now += 999
          assert.equal((await db.get(['s', 'short'])).value, 1)
          now += 1
          assert.equal((await db.get(['s', 'short'])).value, null)
          assert.equal((await db.getMany([['s', 'short']]))[0]?.value, null)
          assert.deepEqual(keysOf(await Array.fromAsync(db.list({ prefix: ['s'] }))), [['s', 'forever'], ['s', 'long']])
          assert.equal((await db.atomic().check({ key: ['s', 'short'], versionstamp: null }).commit()).ok, true)
          now += 4000
          await db.cleanup()
          assert.deepEqual(keysOf(await Array.fromAsync(db.list({ prefix: ['s'] }))), [['s', 'forever']])
        },
        { clock: () => now, sweepInterval: 0 },
      )
    })
  })

  if (persistent) {
    describe('driver contract: persistence', () => {
      it('keeps data and increasing versionstamps across close and reopen', async () => {
        const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-driver-'))
        const path = join(folder, 'reopen.db')
        try {
          const stamps: string[] = []
          for (let round = 0; round < 3; round++) {
            const db = await Valkeyrie.open(path, { driver })
            stamps.push((await db.set(['round', round], round)).versionstamp)
            assert.equal((await Array.fromAsync(db.list({ prefix: ['round'] }))).length, round + 1)
            await db.close()
          }
          assert.deepEqual([...stamps].sort(), stamps)
          assert.equal(new Set(stamps).size, 3)
        } finally {
          rmSync(folder, { recursive: true, force: true })
        }
      })

      it('refuses to reopen with another serializer', async () => {
        const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-driver-'))
        const path = join(folder, 'serializer.db')
        try {
          await (await Valkeyrie.open(path, { driver })).close()
          await assert.rejects(Valkeyrie.open(path, { driver, serializer: jsonSerializer }), /v8 serializer.*json serializer/)
        } finally {
          rmSync(folder, { recursive: true, force: true })
        }
      })
    })
  }
}
