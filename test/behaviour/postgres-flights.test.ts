/**
 * The two ways a Postgres commit reaches the server (src/storage/postgres/flights.ts), each through the storage:
 * pipelined prepared statements on a connection of the store's own (a database opened from a URL, node-postgres
 * 8.23 and later), and one text per flight on the pool's connections (the application's own pool, and every URL
 * with an older node-postgres, which is how the lowest peer versions run). Both must write the same rows, take
 * the counter in order, refuse a stale blind guess, run the statements other features add before COMMIT, and
 * turn a missing metadata row into a StorageError.
 */
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { StorageError } from '../../src/errors.js'
import { pipelinedChannel } from '../../src/storage/postgres/flights.js'
import { openPostgres } from '../../src/storage/postgres/open.js'
import { createPgKvTables } from '../../src/storage/postgres/schema.js'
import type { CommitStatement } from '../../src/storage/postgres/sql.js'
import type { PostgresStorage } from '../../src/storage/postgres/storage.js'
import { DEFAULT_TABLE_NAMES } from '../../src/storage/sqlite/schema.js'
import type { KvRow } from '../../src/storage/store.js'
import { dropSchema, newSchemaName, postgres, postgresAdmin, postgresUrl, quoteIdentifier } from '../support/backends.js'

const pools: pg.Pool[] = []
const stores: PostgresStorage[] = []
const schemas: string[] = []
afterAll(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close().catch(() => {})))
  await Promise.all(pools.splice(0).map((p) => p.end()))
  await Promise.all(schemas.splice(0).map((s) => dropSchema(s)))
})

type Channel = 'pipelined' | 'text'

/** A store in `schema` whose commits take `channel`. */
async function storeIn(schema: string, channel: Channel): Promise<PostgresStorage> {
  const tables = createPgKvTables(DEFAULT_TABLE_NAMES, { schema })
  const common = { tables, durability: 'full' as const, busyTimeout: 5000 }
  let store: PostgresStorage
  if (channel === 'pipelined') {
    store = await openPostgres({ url: postgresUrl(), poolSize: 2, ...common })
  } else {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 2 })
    pools.push(pool)
    store = await openPostgres({ pool: pool as never, migrations: 'apply', ...common })
  }
  await store.recordSerializer('v8', schema)
  stores.push(store)
  return store
}

function freshSchema(): string {
  const schema = newSchemaName()
  schemas.push(schema)
  return schema
}

const key = (s: string): Buffer => Buffer.from(s)
const row = (k: string, value: Buffer, version: number): KvRow => ({ key: key(k), value, encoding: 1, version, expiresAt: null })

/** Sets `k` to `value` in one commit; returns its version. */
const set = (store: PostgresStorage, k: string, value: Buffer): Promise<number> =>
  Promise.resolve(
    store.transact(
      () => [key(k)],
      (tx) => {
        const version = tx.nextVersion()
        tx.write(row(k, value, version))
        return version
      },
    ),
  )

/** Adds one to the first byte of `k` (1 if absent), reading it in the transaction; returns the new byte. */
const bump = (store: PostgresStorage, k: string): Promise<number> =>
  Promise.resolve(
    store.transact(
      () => [key(k)],
      (tx) => {
        const next = (tx.read(key(k))?.value[0] ?? 0) + 1
        tx.write(row(k, Buffer.of(next), tx.nextVersion()))
        return next
      },
    ),
  )

/**
 * Counts the commits that take the usual two flights, whose first flight locks the counter row with
 * `SELECT … FOR UPDATE` (a one-flight commit takes the lock with its UPDATE instead), on every node-postgres client
 * until `stop()`. `taken()` returns the count since the last call.
 */
function countTwoFlightCommits(): { taken: () => number; stop: () => void } {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = prototype.query
  let count = 0
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const query = args[0]
    const text = typeof query === 'string' ? query : ((query as { text?: unknown } | undefined)?.text ?? '')
    if (typeof text === 'string' && /SELECT version FROM \S+ WHERE id = \d+ FOR UPDATE/.test(text)) count++
    return original.apply(this, args)
  }
  return {
    taken: () => {
      const taken = count
      count = 0
      return taken
    },
    stop: () => {
      prototype.query = original
    },
  }
}

describe.skipIf(postgres.unavailable !== undefined)('Postgres commit flights', () => {
  it('the installed node-postgres pipelines the commits of a database opened from a URL', async () => {
    // The lowest-peers run (8.11, no pipeline mode) gets no channel: its URLs commit as text, as an own pool does.
    const channel = await pipelinedChannel(postgresUrl(), { synchronousCommit: 'on', lockTimeout: 1000, idleTimeout: 1000 })
    const hasPipeline = (new pg.Client({ pipeline: true } as pg.ClientConfig) as unknown as { pipeline?: boolean }).pipeline === true
    expect(channel !== undefined).toBe(hasPipeline)
    await channel?.close()
  })

  for (const channel of ['pipelined', 'text'] as const) {
    describe(channel, () => {
      it('writes, reads back and deletes many rows in one commit, with versions in order', async () => {
        const store = await storeIn(freshSchema(), channel)
        const keys = Array.from({ length: 1200 }, (_, i) => `k${i}`)
        const first = await Promise.resolve(
          store.transact(
            () => keys.map(key),
            (tx) => {
              const version = tx.nextVersion()
              for (const k of keys) tx.write({ ...row(k, Buffer.from(`v'\\${k}`), version), expiresAt: k === 'k0' ? null : 10 ** 15 })
              return version
            },
          ),
        )
        expect(first).toBe(1)
        const read = await store.readMany(keys.map(key))
        expect(read.every((r, i) => r?.value.equals(Buffer.from(`v'\\${keys[i]}`)) && r.version === 1)).toBe(true)
        expect(read[1]?.expiresAt).toBe(10 ** 15)
        expect(read[0]?.expiresAt).toBeNull()
        await Promise.resolve(
          store.transact(
            () => keys.slice(0, 600).map(key),
            (tx) => {
              for (const k of keys.slice(0, 600)) tx.remove(key(k))
              tx.nextVersion()
            },
          ),
        )
        expect((await store.readMany(keys.map(key))).filter((r) => r !== undefined)).toHaveLength(600)
        expect((await store.describe(Date.now())).version).toBe(2)
      })

      it('reads inside the transaction and keeps every increment when two stores interleave', async () => {
        const schema = freshSchema()
        const [a, b] = [await storeIn(schema, channel), await storeIn(schema, channel)]
        await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? a : b, 'n')))
        expect((await a.read(key('n')))?.value[0]).toBe(20)
        // Blind sets on a stale guess (the other store wrote last) run again the usual way.
        const versions: number[] = []
        for (let i = 0; i < 10; i++) versions.push(await set(i % 2 ? a : b, 'blind', Buffer.of(i)))
        expect(versions).toEqual([...versions].sort((x, y) => x - y))
        expect(new Set(versions).size).toBe(10)
        expect((await b.read(key('blind')))?.value).toEqual(Buffer.of(9))
        expect((await a.describe(Date.now())).version).toBe(30)
      })

      it('runs the statements other features add before COMMIT, in the same transaction', async () => {
        const schema = freshSchema()
        const store = await storeIn(schema, channel)
        const side = `${quoteIdentifier(schema)}.side`
        await postgresAdmin().query(`CREATE TABLE ${side} (k bytea, n int8, note text, tags text[])`)
        const extras = (version: number): CommitStatement[] => [
          { text: `INSERT INTO ${side} (k, n, note, tags) SELECT k, $2, $3, $4::text[] FROM unnest($1::bytea[]) AS u(k)`, values: [[key('a'), key('b')], version, "it's \\ quoted", ['x', "y'z"]] },
          { text: `INSERT INTO ${side} (k, n, note) VALUES ($1, $2, $3)`, values: [Buffer.of(0, 255), null, null] },
          `SELECT pg_notify('valkeyrie_test', 'hello')`,
        ]
        let pending: CommitStatement[] = []
        store.extraStatements = () => pending
        pending = extras(1)
        await set(store, 'a', Buffer.of(1)) // the first commit reads the counter: two flights
        pending = extras(2)
        await set(store, 'b', Buffer.of(2)) // then blind: one flight
        pending = extras(3)
        await bump(store, 'a') // a read: two flights again
        const { rows } = await postgresAdmin().query(`SELECT k, n, note, tags FROM ${side} ORDER BY n NULLS LAST, k`)
        expect(rows.filter((r) => r.n !== null).map((r) => [r.k.toString(), Number(r.n)])).toEqual([
          ['a', 1], ['b', 1], ['a', 2], ['b', 2], ['a', 3], ['b', 3],
        ])
        expect(rows[0].note).toBe("it's \\ quoted")
        expect(rows[0].tags).toEqual(['x', "y'z"])
        expect(rows.filter((r) => r.n === null).map((r) => r.k)).toEqual([Buffer.of(0, 255), Buffer.of(0, 255), Buffer.of(0, 255)])
        // A failing extra statement fails the commit: nothing of it is written, and the counter does not move.
        pending = [{ text: `INSERT INTO ${side} (n) VALUES ($1::int8)`, values: ['not a number'] }]
        await expect(set(store, 'c', Buffer.of(3))).rejects.toThrow()
        await expect(bump(store, 'a')).rejects.toThrow()
        pending = []
        expect(await store.read(key('c'))).toBeUndefined()
        expect((await store.describe(Date.now())).version).toBe(3)
        expect(await set(store, 'c', Buffer.of(3))).toBe(4)
      })

      it('commits a group that reads remembered rows in one flight, and a stale remembered row the usual way', async () => {
        const schema = freshSchema()
        const store = await storeIn(schema, channel)
        await set(store, 'x', Buffer.of(1))
        expect(await bump(store, 'x')).toBe(2) // on the row its own commit wrote
        expect(await bump(store, 'absent')).toBe(1) // the first time read; then remembered absent
        await store.read(key('y'))
        expect(await bump(store, 'y')).toBe(1)
        // Changed behind the store's back without moving the counter: the guess fails its check and nothing of it is
        // written; the usual way then reads the row as it is.
        await postgresAdmin().query(`UPDATE ${quoteIdentifier(schema)}.kv SET value = '\\x07', version = version + 100 WHERE key = $1`, [key('x')])
        expect(await bump(store, 'x')).toBe(8)
        await postgresAdmin().query(`DELETE FROM ${quoteIdentifier(schema)}.kv WHERE key = $1`, [key('y')])
        expect(await bump(store, 'y')).toBe(1)
        expect((await store.describe(Date.now())).version).toBe(6)
      })

      it('writes a plain set alone (writeOne) on the counter it guessed, and the usual way when that guess is stale', async () => {
        const schema = freshSchema()
        const [a, b] = [await storeIn(schema, channel), await storeIn(schema, channel)]
        const one = (store: PostgresStorage, k: string, byte: number): Promise<number> =>
          Promise.resolve(store.writeOne({ key: key(k), value: Buffer.of(byte), encoding: 1, expiresAt: null }))
        const twoFlights = countTwoFlightCommits()
        try {
          // Runs of one store (one flight on the counter it left) and switches between the two (a store that never
          // committed, or whose guess the other made stale, takes two flights).
          const versions: number[] = []
          for (let i = 0; i < 12; i++) versions.push(await one(i % 4 < 3 ? a : b, `k${i % 5}`, i))
          expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
          expect(twoFlights.taken()).toBe(6) // i = 0, 3, 4, 7, 8, 11
          expect((await b.readMany(['k0', 'k1', 'k2', 'k3', 'k4'].map(key))).map((r) => [r?.value[0], r?.version])).toEqual([
            [10, 11], [11, 12], [7, 8], [8, 9], [9, 10],
          ])
          expect(await one(a, 'c', 99)).toBe(13)
          expect(twoFlights.taken()).toBe(1)
          // Many at once on one store: every one guesses the same counter, one wins it, the rest go the usual way.
          const together = await Promise.all(Array.from({ length: 10 }, (_, i) => one(a, 'c', i)))
          expect([...together].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => 14 + i))
          expect(twoFlights.taken()).toBe(9)
          // The row written is remembered: a commit reading it next runs on it in one flight, and sees its value.
          await one(a, 'r', 5)
          expect(await bump(a, 'r')).toBe(6)
          expect(twoFlights.taken()).toBe(0)
          expect((await a.describe(Date.now())).version).toBe(25)
        } finally {
          twoFlights.stop()
        }
      })

      it('turns a missing metadata row into a StorageError', async () => {
        const schema = freshSchema()
        const store = await storeIn(schema, channel)
        await postgresAdmin().query(`DELETE FROM ${quoteIdentifier(schema)}.kv_meta`)
        await expect(bump(store, 'a')).rejects.toBeInstanceOf(StorageError)
        expect(await store.read(key('a'))).toBeUndefined()
      })
    })
  }
})
