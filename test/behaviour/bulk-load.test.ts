import { existsSync, readdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { jsonSerializer, limits, memoryDriver, ReadOnlyError, SerializerMismatchError, Valkeyrie } from '../../src/index.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'

const item = (id: number, bytes: number) => ({ id, pad: 'x'.repeat(bytes) })

describe('Valkeyrie.from and fromAsync', () => {
  it('writes every item under [...prefix, item[keyProperty]] and reports progress with the total', async () => {
    const progress: [number, number | undefined][] = []
    const db = await Valkeyrie.from([item(1, 10), item(2, 10)], {
      prefix: ['items'],
      keyProperty: 'id',
      onProgress: (loaded, total) => progress.push([loaded, total]),
    })
    expect((await db.get(['items', 2])).value).toEqual(item(2, 10))
    expect(progress.at(-1)).toEqual([2, 2])
    await db.close()
  })

  it('batches by bytes as well as count: 3,000 items of 2 KB load without a limit error, in several commits', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => item(i, 2048))
    const progress: number[] = []
    const db = await Valkeyrie.from(items, { prefix: ['big'], keyProperty: 'id', onProgress: (n) => progress.push(n) })
    // 819,200 bytes per commit hold about 390 values of 2 KB: at least 8 commits.
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil((3000 * 2048) / limits.MAX_TOTAL_MUTATION_BYTES))
    expect(progress.at(-1)).toBe(3000)
    expect((await db.info()).entries).toBe(3000)
    await db.close()
  })

  it('fromAsync takes an async generator, a key function, expireIn and open options, into a file', async () => {
    const path = tempDbPath()
    async function* users() {
      for (const name of ['ada', 'alan']) yield { name, joined: new Date(0) }
    }
    const db = await Valkeyrie.fromAsync(users(), {
      path,
      prefix: ['users'],
      keyProperty: (user) => user.name.toUpperCase(),
      expireIn: 60_000,
      serializer: jsonSerializer,
    })
    expect((await db.get(['users', 'ADA'])).value).toEqual({ name: 'ada', joined: new Date(0) })
    const info = await db.info()
    expect(info).toMatchObject({ entries: 2, live: 2, serializer: 'json' })
    await db.close()
    const raw = new Database(path, { readonly: true })
    const rows = raw.prepare('SELECT expires_at AS expiresAt FROM kv').all() as { expiresAt: number | null }[]
    raw.close()
    for (const row of rows) expect(row.expiresAt).toBeGreaterThan(Date.now())
  })

  it('refuses bad options before any I/O: no file is created', async () => {
    const path = tempDbPath()
    await expect(Valkeyrie.from([{ id: 1 }], { path, prefix: 'items' as never, keyProperty: 'id' })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.from([{ id: 1 }], { path, prefix: [], keyProperty: {} as never })).rejects.toThrow(/keyProperty/)
    await expect(Valkeyrie.from([{ id: 1 }], { path, prefix: [], keyProperty: 'id', expireIn: -1 })).rejects.toThrow(RangeError)
    await expect(Valkeyrie.from(5 as never, { path, prefix: [], keyProperty: 'id' })).rejects.toThrow(/iterable/)
    expect(existsSync(path)).toBe(false)
  })

  it('names the item that cannot be written, and closes the database', async () => {
    const path = tempDbPath()
    const error = await rejection(Valkeyrie.from([item(1, 1), { id: { nested: true } }], { path, prefix: ['i'], keyProperty: 'id' }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(/^item 2: key part 1/)
    // Closed: the file can be removed and reopened by another connection at once.
    const db = await openTestDb(path)
    expect((await db.info()).entries).toBe(0)
  })
})

describe('clear, destroy and info', () => {
  it('clear deletes every entry, expired ones too, in commits under the limits', async () => {
    const db = await openTestDb()
    await db.load(Array.from({ length: 2500 }, (_, i) => ({ key: ['k', i], value: 'v' })))
    await db.set(['gone'], 1, { expireIn: 0 })
    await db.clear()
    expect(await db.info()).toMatchObject({ entries: 0, live: 0, expired: 0 })
    expect(await Array.fromAsync(db.list({ prefix: [] }))).toEqual([])
  })

  it('info counts live and expired entries and gives the last versionstamp', async () => {
    let now = 1_000
    const db = await openTestDb(undefined, { clock: () => now })
    expect(await db.info()).toMatchObject({ entries: 0, versionstamp: null, serializer: 'v8', formatVersion: 1 })
    await db.set(['a'], 1)
    const { versionstamp } = await db.set(['b'], 2, { expireIn: 10 })
    now += 10
    const info = await db.info()
    expect(info).toMatchObject({ entries: 2, live: 1, expired: 1, versionstamp })
    expect(info.bytes).toBeGreaterThan(0)
  })

  it('info works over a custom driver, which knows no size or format', async () => {
    const db = await openTestDb(undefined, memoryDriver)
    await db.set(['a'], 1)
    expect(await db.info()).toMatchObject({ entries: 1, live: 1, bytes: null, formatVersion: null, serializer: 'v8' })
  })

  it('destroy closes the database and deletes its file, -wal and -shm', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path)
    await db.set(['a'], 1)
    expect(readdirSync(dirname(path)).length).toBeGreaterThan(1)
    await db.destroy()
    expect(readdirSync(dirname(path))).toEqual([])
    await expect(db.get(['a'])).rejects.toThrow(/closed/)
  })

  it('destroy refuses a database on your own connection, and a read-only open', async () => {
    const client = new Database(':memory:')
    const own = await openTestDb(undefined, { database: client, migrations: 'apply' })
    await expect(own.destroy()).rejects.toThrow(TypeError)
    await own.set(['still', 'open'], 1)

    const path = tempDbPath()
    await (await Valkeyrie.open(path)).close()
    const readOnly = await openTestDb(path, { readOnly: true })
    await expect(readOnly.destroy()).rejects.toThrow(ReadOnlyError)
    expect(existsSync(path)).toBe(true)
  })

  it('a serializer mismatch is a SerializerMismatchError with both names', async () => {
    const path = tempDbPath()
    await (await Valkeyrie.open(path, { serializer: jsonSerializer })).close()
    const error = await rejection(Valkeyrie.open(path))
    expect(error).toBeInstanceOf(SerializerMismatchError)
    expect(error).toMatchObject({ recorded: 'json', requested: 'v8' })
  })
})
