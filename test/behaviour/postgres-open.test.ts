/**
 * Opening PostgreSQL databases: from a URL (options, errors, the serializer record, the migrations journal) and on
 * an application's own node-postgres pool (its tables checked, ours applied on request, a Client refused).
 */
import { drizzle } from 'drizzle-orm/node-postgres'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { jsonSerializer, OpenError, Valkeyrie } from '../../src/index.js'
import { createKvTables, createPgKvTables } from '../../src/drizzle.js'
import { dropSchema, newSchemaName, postgres, postgresAdmin, postgresUrl, quoteIdentifier } from '../support/backends.js'
import { rejection, tempDbPath } from '../support/open-test-db.js'

const pools: pg.Pool[] = []
const opened: Valkeyrie[] = []
const schemas: string[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()))
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
  await Promise.all(schemas.splice(0).map(dropSchema))
})

const schema = (): string => {
  const name = newSchemaName('open')
  schemas.push(name)
  return name
}
const appPool = (): pg.Pool => {
  const pool = new pg.Pool({ connectionString: postgresUrl(), max: 4 })
  pools.push(pool)
  return pool
}
/** Closed after the test. */
const track = async (opening: Promise<Valkeyrie>): Promise<Valkeyrie> => {
  const db = await opening
  opened.push(db)
  return db
}

describe('PostgreSQL options, checked before any I/O', () => {
  it('refuses schema and poolSize away from PostgreSQL, readOnly on it, and bad values', async () => {
    await expect(Valkeyrie.open(tempDbPath(), { schema: 'x' })).rejects.toThrow(/schema and poolSize apply to a PostgreSQL database/)
    await expect(Valkeyrie.open(undefined, { poolSize: 2 })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open('postgres://nobody@127.0.0.1:1/x', { readOnly: true })).rejects.toThrow(/connect as a role that may only read/)
    await expect(Valkeyrie.open('postgres://nobody@127.0.0.1:1/x', { schema: '' })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open('postgres://nobody@127.0.0.1:1/x', { schema: 'x'.repeat(64) })).rejects.toThrow(/1 to 63 bytes/)
    await expect(Valkeyrie.open('postgres://nobody@127.0.0.1:1/x', { poolSize: 0 })).rejects.toThrow(RangeError)
    await expect(Valkeyrie.open('postgres://nobody@127.0.0.1:1/x', { poolSize: 1.5 })).rejects.toThrow(TypeError)
  })

  it('refuses createPgKvTables() tables with a SQLite connection, and a single pg Client', async () => {
    const sqliteDb = (await import('better-sqlite3')).default
    const client = new sqliteDb(':memory:')
    const { kv } = createPgKvTables()
    await expect(Valkeyrie.open({ database: client, tables: { kv } })).rejects.toThrow(/go with a PostgreSQL database/)
    client.close()
    await expect(Valkeyrie.open({ database: new pg.Client() as never })).rejects.toThrow(/a node-postgres Pool, not a single Client/)
  })

  it('reports an unreachable server as an OpenError that hides the password', async () => {
    const error = await rejection(Valkeyrie.open('postgres://app:secret@127.0.0.1:1/app'))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/^cannot open postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: /)
    expect(error.message).not.toContain('secret')
  })
})

describe.skipIf(postgres.unavailable !== undefined)('a PostgreSQL database from a URL', () => {
  it('creates its schema and tables once, and records the serializer: another one is refused', async () => {
    const name = schema()
    const db = await track(Valkeyrie.open(postgresUrl(), { schema: name }))
    await db.set(['a'], 1)
    await db.close()
    const error = await rejection(Valkeyrie.open(postgresUrl(), { schema: name, serializer: jsonSerializer }))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/written with the v8 serializer, but was opened with the json serializer/)
    const again = await track(Valkeyrie.open(postgresUrl(), { schema: name }))
    expect((await again.get(['a'])).value).toBe(1)
    const tables = await postgresAdmin().query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [name])
    expect(tables.rows.map((r) => r.table_name)).toEqual(['__valkeyrie_migrations', 'kv', 'kv_meta', 'kv_queue'])
  })

  it('describes itself (info) and destroy() drops its tables, keeping the schema', async () => {
    const name = schema()
    const db = await Valkeyrie.open(postgresUrl(), { schema: name, clock: () => 1000 })
    await db.set(['a'], 1)
    await db.set(['b'], 2, { expireIn: 0 })
    const info = await db.info()
    expect(info).toMatchObject({ entries: 2, live: 1, expired: 1, serializer: 'v8', formatVersion: 1, versionstamp: '00000000000000000002' })
    expect(info.bytes).toBeGreaterThan(0)
    await db.destroy()
    const left = await postgresAdmin().query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [name])
    expect(left.rows).toEqual([])
    const mine = await track(Valkeyrie.open({ database: appPool(), migrations: 'apply', schema: name }))
    await expect(mine.destroy()).rejects.toThrow(TypeError)
  })

  it('refuses a schema written by a newer version of Valkeyrie', async () => {
    const name = schema()
    await (await track(Valkeyrie.open(postgresUrl(), { schema: name }))).close()
    await postgresAdmin().query(`INSERT INTO ${quoteIdentifier(name)}.__valkeyrie_migrations (hash, created_at) VALUES ('future', 99999999999999)`)
    await expect(Valkeyrie.open(postgresUrl(), { schema: name })).rejects.toThrow(/written by a newer version of Valkeyrie/)
  })

  it('shares one store, with versionstamps in commit order, between two instances', async () => {
    const name = schema()
    const a = await track(Valkeyrie.open(postgresUrl(), { schema: name }))
    const b = await track(Valkeyrie.open(postgresUrl(), { schema: name, durability: 'relaxed' }))
    const first = await a.set(['k'], 'a')
    const second = await b.set(['k'], 'b')
    expect(second.versionstamp > first.versionstamp).toBe(true)
    expect(await a.get(['k'])).toEqual({ key: ['k'], value: 'b', versionstamp: second.versionstamp })
    expect((await b.atomic().check({ key: ['k'], versionstamp: first.versionstamp }).set(['k'], 'c').commit()).ok).toBe(false)
  })
})

describe.skipIf(postgres.unavailable !== undefined)('the LISTEN connection of watch() and queue listeners', () => {
  it('is one per database, shared by every stream and the queue listener, and closed when the last one stops', async () => {
    const tag = `valkeyrie_listen_${process.pid}_${Date.now()}`
    const url = new URL(postgresUrl())
    url.searchParams.set('application_name', tag)
    const name = schema()
    const db = await track(Valkeyrie.open(url.href, { schema: name }))
    const listening = async (): Promise<number> => {
      const { rows } = await postgresAdmin().query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'",
        [tag],
      )
      return rows[0].n as number
    }
    const settled = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && (await listening()) !== n; i++) await new Promise((resolve) => setTimeout(resolve, 25))
      expect(await listening()).toBe(n)
    }
    const first = db.watch([['a']])
    const second = db.watch([['b']])
    const got: unknown[] = []
    const queue = db.listenQueue((message) => {
      got.push(message)
    })
    await settled(1)
    // Another client's enqueue and write reach this database through that one connection.
    const other = await track(Valkeyrie.open(url.href, { schema: name }))
    const reader = first.getReader()
    expect((await reader.read()).value?.[0]?.value).toBeNull()
    await other.set(['a'], 'seen')
    expect((await reader.read()).value?.[0]?.value).toBe('seen')
    await other.enqueue('job')
    for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(got).toEqual(['job'])
    await reader.cancel()
    await second.cancel()
    await settled(1)
    await db.close()
    await queue
    await settled(0)
  })
})

describe.skipIf(postgres.unavailable !== undefined)('plain sets in one round trip, on a guess of the counter', () => {
  it('keeps every set, with distinct versionstamps in commit order, when two instances interleave', async () => {
    const name = schema()
    const a = await track(Valkeyrie.open(postgresUrl(), { schema: name }))
    const b = await track(Valkeyrie.open(postgresUrl(), { schema: name }))
    // Sequential sets from each, the two running at once: each instance's guess of the counter keeps going stale.
    const perInstance = await Promise.all(
      [a, b].map(async (db, who) => {
        const mine: string[] = []
        for (let i = 0; i < 150; i++) mine.push((await db.set(['w', who, i], i)).versionstamp)
        return mine
      }),
    )
    for (const mine of perInstance) expect(mine).toEqual([...mine].sort())
    const stamps = perInstance.flat()
    expect(new Set(stamps).size).toBe(300)
    const entries = await Array.fromAsync(a.list({ prefix: ['w'] }))
    expect(entries).toHaveLength(300)
    // The counter ends at the largest versionstamp: no set was written under a number another one got.
    const last = await b.set(['after'], true)
    expect(last.versionstamp > [...stamps].sort().at(-1)!).toBe(true)
    for (const entry of entries) expect(stamps).toContain(entry.versionstamp)
  })

  it('falls back to reading for a group with a check, a sum or an expired key, and commits it exactly', async () => {
    const db = await track(Valkeyrie.open(postgresUrl(), { schema: schema() }))
    await db.set(['n'], 1)
    const entry = await db.get(['n'])
    expect((await db.atomic().check(entry).set(['n'], 2).sum(['c'], 1n).commit()).ok).toBe(true)
    expect((await db.atomic().check(entry).set(['n'], 3).commit()).ok).toBe(false)
    expect((await db.get(['n'])).value).toBe(2)
  })
})

describe.skipIf(postgres.unavailable !== undefined)("an application's own node-postgres pool", () => {
  it("applies Valkeyrie's migrations on request, in the schema option's schema, and leaves the pool open", async () => {
    const pool = appPool()
    const name = schema()
    const db = await track(Valkeyrie.open({ database: drizzle(pool), migrations: 'apply', schema: name }))
    await db.set(['x'], 1)
    await db.close()
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${quoteIdentifier(name)}.kv`)
    expect(rows[0].n).toBe(1)
  })

  it('uses the tables of its own migrations, under its names, and refuses missing or different tables', async () => {
    const pool = appPool()
    const name = schema()
    const tables = createPgKvTables({ kv: 'app_kv', meta: 'app_kv_meta' }, { schema: name })
    const missing = await rejection(Valkeyrie.open({ database: pool, tables }))
    expect(missing).toBeInstanceOf(OpenError)
    expect(missing.message).toContain(`its table ${name}.app_kv does not exist`)
    const q = quoteIdentifier(name)
    await pool.query(`CREATE SCHEMA ${q};
      CREATE TABLE ${q}.app_kv (key bytea PRIMARY KEY, value bytea NOT NULL, encoding smallint NOT NULL, version bigint NOT NULL, expires_at bigint);
      CREATE TABLE ${q}.app_kv_meta (id smallint PRIMARY KEY, version bigint NOT NULL DEFAULT 0, serializer text NOT NULL, format_version integer NOT NULL)`)
    // A schema from before queues: the queue table is named as missing.
    await expect(Valkeyrie.open({ database: pool, tables })).rejects.toThrow(`its table ${name}.app_kv_queue does not exist`)
    await pool.query(`CREATE TABLE ${q}.app_kv_queue (id bigserial PRIMARY KEY, value bytea NOT NULL, encoding smallint NOT NULL,
      ready_at bigint NOT NULL, lease_token text, attempts integer NOT NULL, keys_if_undelivered text NOT NULL, backoff_schedule text NOT NULL)`)
    const db = await track(Valkeyrie.open({ database: pool, tables }))
    await db.set(['y'], 'yes')
    expect((await db.get(['y'])).value).toBe('yes')
    const got: unknown[] = []
    void db.listenQueue((value) => {
      got.push(value)
    })
    await db.enqueue('queued')
    while (got.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(got).toEqual(['queued'])
    await db.close()
    await pool.query(`ALTER TABLE ${q}.app_kv ALTER COLUMN expires_at TYPE integer`)
    await expect(Valkeyrie.open({ database: pool, tables })).rejects.toThrow(`its column ${name}.app_kv.expires_at is integer, expected bigint`)
  })

  it("refuses migrations: 'apply' with names of the application's choosing, and SQLite tables", async () => {
    const pool = appPool()
    await expect(Valkeyrie.open({ database: pool, migrations: 'apply', tables: { kv: 'mine' } })).rejects.toThrow(/default table names only/)
    await expect(Valkeyrie.open({ database: pool, tables: createKvTables() as never })).rejects.toThrow(TypeError)
  })
})
