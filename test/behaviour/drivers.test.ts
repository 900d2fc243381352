import { describe, expect, it } from 'vitest'
import { defineDriver, type DriverEntry, type KvDriver, memoryDriver, OpenError, sqliteDriver, StorageError, Valkeyrie, ValkeyrieError } from '../../src/index.js'
import { MemoryDriver } from '../../src/storage/memory.js'
import { driverContract } from '../../src/testing/index.js'
import { postgres, postgresContractDriver } from '../support/backends.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'
import { wrappedSqliteDriver } from '../support/wrapped-sqlite.js'

/** The minimal driver of docs/storage.md ("Writing a driver"), written from that section alone. */
const mapDriver = defineDriver(() => {
  const entries = new Map<string, DriverEntry>()
  const id = (key: Uint8Array) => Buffer.from(key).toString('hex')
  return {
    get: (key) => entries.get(id(key)),
    set: (key, value, versionstamp, expiresAt) => {
      entries.set(id(key), { key, value, versionstamp, expiresAt })
    },
    delete: (key) => {
      entries.delete(id(key))
    },
    list: (start, end, _prefix, _now, limit, reverse) => {
      const inRange = [...entries.values()]
        .filter((e) => Buffer.compare(e.key, start) >= 0 && Buffer.compare(e.key, end) < 0)
        .sort((a, b) => Buffer.compare(a.key, b.key))
      if (reverse) inRange.reverse()
      return inRange.slice(0, limit)
    },
    cleanup: (now) => {
      for (const [k, e] of entries) if (e.expiresAt !== null && e.expiresAt <= now) entries.delete(k)
    },
    withTransaction: (callback) => callback(),
    close: () => {},
  }
})

/** The SQLite driver through the generic adapter (its public driver methods), not its synchronous fast path. */
const sqliteThroughAdapter = wrappedSqliteDriver

describe('sqliteDriver (fast path)', () => driverContract({ driver: sqliteDriver, describe, it, persistent: true }))
describe('sqliteDriver (through the driver adapter)', () =>
  driverContract({ driver: sqliteThroughAdapter, describe, it, persistent: true }))
describe('memoryDriver', () => driverContract({ driver: memoryDriver, describe, it }))
describe('the minimal driver of the storage docs', () => driverContract({ driver: mapDriver, describe, it }))
describe.skipIf(postgres.unavailable !== undefined)('postgresDriver (a schema per contract path)', () =>
  driverContract({ driver: postgresContractDriver, describe, it, persistent: true }))

/** A memory driver whose `set` fails on chosen calls. */
class FailingDriver extends MemoryDriver {
  calls = 0
  failOn = new Set<number>()
  override set(key: Uint8Array, value: Uint8Array, versionstamp: string, expiresAt: number | null): void {
    this.calls++
    if (this.failOn.has(this.calls)) throw new Error(`disk on fire at write ${this.calls}`)
    super.set(key, value, versionstamp, expiresAt)
  }
}

describe('driver failures', () => {
  it('rejects a commit with a ValkeyrieError carrying the driver error, and undoes its earlier writes', async () => {
    const driver = new FailingDriver()
    const db = await openTestDb(undefined, { driver })
    await db.set(['a'], 'old a')
    driver.failOn.add(driver.calls + 3) // the third write of the next commit: a, b, then c
    const attempt = db.atomic().set(['a'], 'new a').set(['b'], 'new b').set(['c'], 'new c').commit()
    await expect(attempt).rejects.toBeInstanceOf(StorageError)
    await expect(attempt).rejects.toBeInstanceOf(ValkeyrieError)
    const error = await rejection(attempt)
    expect((error.cause as Error).message).toMatch(/disk on fire/)
    expect((await db.getMany([['a'], ['b'], ['c']])).map((e) => e.value)).toEqual(['old a', null, null])
    // The database keeps working, and versionstamps keep increasing.
    const before = (await db.get(['a'])).versionstamp as string
    const after = await db.set(['d'], 1)
    expect(after.versionstamp > before).toBe(true)
  })

  it('wraps a failing read in a ValkeyrieError with the cause', async () => {
    const driver = new MemoryDriver()
    const db = await openTestDb(undefined, { driver })
    driver.get = () => {
      throw new Error('read failed')
    }
    const error = await rejection(db.get(['x']))
    expect(error).toBeInstanceOf(StorageError)
    expect((error.cause as Error).message).toBe('read failed')
  })

  it('rejects open with an OpenError when the factory throws', async () => {
    const broken = defineDriver(() => {
      throw new Error('no connection')
    })
    await expect(Valkeyrie.open('somewhere', broken)).rejects.toThrow(OpenError)
    await expect(Valkeyrie.open('somewhere', broken)).rejects.toThrow(/no connection/)
  })

  it('rejects a driver that lacks a method with a TypeError naming it', async () => {
    const incomplete = defineDriver(() => ({ get: () => undefined }) as unknown as KvDriver)
    await expect(Valkeyrie.open(undefined, incomplete)).rejects.toThrow('a driver must have a set method')
  })
})

describe('opening with a driver', () => {
  it('takes a driver factory as the second argument or as options.driver', async () => {
    for (const db of [await openTestDb(undefined, memoryDriver), await openTestDb(undefined, { driver: memoryDriver })]) {
      await db.set(['x'], 1)
      expect((await db.get(['x'])).value).toBe(1)
    }
  })

  it('passes the path to the factory', async () => {
    const seen: (string | undefined)[] = []
    const recording = defineDriver((path) => {
      seen.push(path)
      return new MemoryDriver()
    })
    await openTestDb('/some/where.db', recording)
    expect(seen).toEqual(['/some/where.db'])
  })

  it('refuses options that only apply to the built-in file storage', async () => {
    await expect(Valkeyrie.open(undefined, { driver: memoryDriver, durability: 'relaxed' })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open(tempDbPath(), { tables: { kv: 'x' } })).rejects.toThrow(TypeError)
  })
})

describe('a driver whose withTransaction does not return the callback', () => {
  /** A memory driver whose withTransaction is written in one of the ways that loses the callback's result. */
  class ForgetfulDriver extends MemoryDriver {
    forget = true
    override withTransaction<T>(callback: () => Promise<T>): Promise<T> {
      if (!this.forget) return callback()
      void callback() // forgot `return`
      return undefined as never
    }
  }

  it('fails open with an OpenError naming withTransaction and what it returned', async () => {
    const error = await rejection(Valkeyrie.open(undefined, { driver: new ForgetfulDriver() }))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toBe(
      "cannot open (driver without a path): the driver failed: withTransaction must return the callback's result (a promise of it): received undefined",
    )
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  it('names an async withTransaction that awaits the callback but resolves to nothing', async () => {
    const driver = new MemoryDriver()
    driver.withTransaction = async (callback) => {
      await callback() // forgot `return`
      return undefined as never
    }
    const error = await rejection(Valkeyrie.open(undefined, { driver }))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/withTransaction must resolve to the callback's result: received undefined/)
  })

  it('names one that never runs the callback', async () => {
    const driver = new MemoryDriver()
    driver.withTransaction = async () => undefined as never
    const error = await rejection(Valkeyrie.open(undefined, { driver }))
    expect(error.message).toMatch(/withTransaction resolved without running the callback/)
  })

  it('rejects a commit with a StorageError naming withTransaction, once the driver starts forgetting', async () => {
    const driver = new ForgetfulDriver()
    driver.forget = false
    const db = await openTestDb(undefined, { driver })
    await db.set(['a'], 1)
    driver.forget = true
    const error = await rejection(db.set(['b'], 2))
    expect(error).toBeInstanceOf(StorageError)
    expect(error.message).toMatch(/^commit failed: withTransaction must return the callback's result/)
    const read = await rejection(db.getMany([['a']]))
    expect(read).toBeInstanceOf(StorageError)
    expect(read.message).toMatch(/^read failed: withTransaction must return/)
    driver.forget = false
  })
})
