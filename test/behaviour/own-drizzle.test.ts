/**
 * A Drizzle application keeps the kv tables in its own database: its schema includes createKvTables(), its own
 * drizzle-kit generates the migration, its own migrator applies it, and Valkeyrie uses the tables beside the
 * application's.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { blob, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKvTables } from '../../src/drizzle.js'
import { KvU64, OpenError, StorageError, Valkeyrie } from '../../src/index.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
// Inside the repository so the project resolves drizzle-orm from our node_modules, as an installed app would.
const PROJECT = join(ROOT, '.tmp', `own-drizzle-${process.pid}`)
const TABLES = { kv: 'app_kv', meta: 'app_kv_meta' }

const todos = sqliteTable('todos', { id: integer('id').primaryKey(), title: text('title').notNull() })
// As the application's schema declares them: the names are written here only.
const { kv: appKv, meta: appKvMeta } = createKvTables(TABLES)

beforeAll(() => {
  rmSync(PROJECT, { recursive: true, force: true })
  mkdirSync(PROJECT, { recursive: true })
  writeFileSync(
    join(PROJECT, 'schema.ts'),
    [
      "import { blob, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'",
      "import { createKvTables } from '../../src/drizzle.js'",
      "export const todos = sqliteTable('todos', { id: integer('id').primaryKey(), title: text('title').notNull() })",
      `export const { kv: appKv, meta: appKvMeta, queue: appKvQueue } = createKvTables(${JSON.stringify(TABLES)})`,
    ].join('\n'),
  )
  writeFileSync(
    join(PROJECT, 'drizzle.config.ts'),
    "export default { dialect: 'sqlite', schema: './schema.ts', out: './migrations' }\n",
  )
  execFileSync(process.execPath, [join(ROOT, 'node_modules/drizzle-kit/bin.cjs'), 'generate'], { cwd: PROJECT, stdio: 'pipe' })
})

afterAll(() => rmSync(PROJECT, { recursive: true, force: true }))

function migratedApp(path: string) {
  const client = new Database(path)
  const db = drizzle({ client })
  migrate(db, { migrationsFolder: join(PROJECT, 'migrations') })
  return { client, db }
}

describe('your own Drizzle database', () => {
  it("puts the kv tables in the application's own drizzle-kit migration", () => {
    const files = readdirSync(join(PROJECT, 'migrations')).filter((f) => f.endsWith('.sql'))
    expect(files).toHaveLength(1)
    const migration = readFileSync(join(PROJECT, 'migrations', files[0] as string), 'utf8')
    expect(migration).toContain('CREATE TABLE `app_kv`')
    expect(migration).toContain('CREATE TABLE `app_kv_meta`')
    expect(migration).toContain('CREATE TABLE `app_kv_queue`')
    expect(migration).toContain('CREATE INDEX `app_kv_expires_at_idx`')
    expect(migration).toContain('CREATE TABLE `todos`')
  })

  it("uses the application's migrated database beside its own tables", async () => {
    const path = tempDbPath()
    const { client, db } = migratedApp(path)
    db.insert(todos).values({ id: 1, title: 'write the docs' }).run()

    const kv = await Valkeyrie.open({ database: db, tables: { kv: appKv, meta: appKvMeta } })
    await kv.set(['todo', 1, 'views'], new KvU64(1n))
    await kv.atomic().sum(['todo', 1, 'views'], 1n).set(['todo', 1, 'seen'], true).commit()
    expect((await kv.get<KvU64>(['todo', 1, 'views'])).value?.value).toBe(2n)
    expect((await Array.fromAsync(kv.list({ prefix: ['todo', 1] }))).map((e) => e.key)).toEqual([
      ['todo', 1, 'seen'],
      ['todo', 1, 'views'],
    ])
    await kv.close()

    // The application's connection stays open and its tables untouched.
    expect(client.open).toBe(true)
    expect(db.select().from(todos).where(eq(todos.id, 1)).get()).toEqual({ id: 1, title: 'write the docs' })
    expect(db.select().from(appKv).all()).toHaveLength(2)
    client.close()
  })

  it('also takes the bare better-sqlite3 connection, and the whole object createKvTables returns', async () => {
    const { client } = migratedApp(tempDbPath())
    const kv = await openTestDb(undefined, { database: client, tables: createKvTables(TABLES) })
    await kv.set(['a'], 1)
    expect((await kv.get(['a'])).value).toBe(1)
    await kv.close()
    client.close()
  })

  it('still takes the table names', async () => {
    const { client } = migratedApp(tempDbPath())
    const kv = await openTestDb(undefined, { database: client, tables: TABLES })
    await kv.set(['a'], 1)
    expect(client.prepare('SELECT count(*) FROM app_kv').pluck().get()).toBe(1)
    await kv.close()
    client.close()
  })

  it('refuses, before touching the connection, a table that createKvTables did not build for that role', async () => {
    const client = new Database(tempDbPath())
    const refusal = (tables: object) => rejection(Valkeyrie.open({ database: client, tables: tables as never }))
    expect(await refusal({ kv: todos, meta: appKvMeta })).toMatchObject({
      name: 'TypeError',
      message: 'tables.kv must be the kv table from createKvTables() or its name: received table todos, whose columns or indexes differ',
    })
    expect(await refusal({ kv: appKvMeta, meta: appKv })).toMatchObject({
      name: 'TypeError',
      message: 'tables.kv must be the kv table from createKvTables() or its name: received the meta table app_kv_meta',
    })
    // A hand-written look-alike without the expiry column and its index.
    const lookalike = sqliteTable('app_kv', {
      key: blob('key', { mode: 'buffer' }).primaryKey(),
      value: blob('value', { mode: 'buffer' }).notNull(),
      encoding: integer('encoding').notNull(),
      version: integer('version').notNull(),
    })
    expect((await refusal({ kv: lookalike })).message).toMatch(/^tables\.kv must be .*: received table app_kv, whose columns/)
    expect((await refusal({ meta: 42 })).message).toBe('tables.meta must be the meta table from createKvTables() or its name: received 42')
    expect(client.prepare('SELECT count(*) FROM sqlite_master').pluck().get()).toBe(0)
    client.close()
  })

  it('applies durability asked for to your connection, and leaves synchronous alone otherwise', async () => {
    const { client } = migratedApp(tempDbPath())
    client.pragma('synchronous = NORMAL')
    const untouched = await openTestDb(undefined, { database: client, tables: TABLES })
    expect(client.pragma('synchronous', { simple: true })).toBe(1)
    await untouched.close()
    const full = await openTestDb(undefined, { database: client, tables: TABLES, durability: 'full' })
    expect(client.pragma('synchronous', { simple: true })).toBe(2)
    await full.close()
    const relaxed = await openTestDb(undefined, { database: client, tables: TABLES, durability: 'relaxed' })
    expect(client.pragma('synchronous', { simple: true })).toBe(1)
    await relaxed.close()
    client.close()
  })

  it('refuses busyTimeout with your connection, saying where to set it', async () => {
    const client = new Database(tempDbPath())
    await expect(Valkeyrie.open({ database: client, busyTimeout: 100 })).rejects.toThrow(
      'busyTimeout applies to a database file Valkeyrie opens: set your connection\'s own timeout (new Database(path, { timeout }))',
    )
    client.close()
  })

  it('gives the SQLite error as the cause of an OpenError when recording the metadata fails', async () => {
    const path = tempDbPath()
    migratedApp(path).client.close()
    const readOnly = new Database(path, { readonly: true })
    const error = await rejection(Valkeyrie.open({ database: readOnly, tables: TABLES }))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/^cannot open .*test\.db: attempt to write a readonly database$/)
    expect(error.cause).toMatchObject({ code: 'SQLITE_READONLY' })
    readOnly.close()
  })

  it('names the missing tables when the migrations were not run', async () => {
    const client = new Database(tempDbPath())
    await expect(Valkeyrie.open(undefined, { database: client, tables: TABLES })).rejects.toThrow(OpenError)
    await expect(Valkeyrie.open(undefined, { database: client, tables: TABLES })).rejects.toThrow(
      /table app_kv is missing; table app_kv_meta is missing.*createKvTables\(\)/,
    )
    client.close()
  })

  it('names a missing queue table (a schema from before queues)', async () => {
    const client = new Database(tempDbPath())
    const db = drizzle({ client })
    migrate(db, { migrationsFolder: join(PROJECT, 'migrations') })
    client.exec('DROP TABLE app_kv_queue')
    await expect(Valkeyrie.open(undefined, { database: client, tables: TABLES })).rejects.toThrow(
      /table app_kv_queue is missing.*createKvTables\(\)/,
    )
    client.close()
  })

  it('names the missing columns and indexes of out-of-date tables', async () => {
    const client = new Database(tempDbPath())
    client.exec('CREATE TABLE app_kv (key BLOB PRIMARY KEY, value BLOB NOT NULL, encoding INTEGER NOT NULL, version INTEGER NOT NULL)')
    client.exec('CREATE TABLE app_kv_meta (id INTEGER PRIMARY KEY, version INTEGER NOT NULL DEFAULT 0, serializer TEXT NOT NULL, format_version INTEGER NOT NULL)')
    await expect(Valkeyrie.open(undefined, { database: client, tables: TABLES })).rejects.toThrow(
      /table app_kv lacks column\(s\) expires_at; index app_kv_expires_at_idx is missing/,
    )
    client.close()
  })

  it("runs Valkeyrie's own migrations in a shared connection when asked", async () => {
    const client = new Database(tempDbPath())
    client.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY)')
    const kv = await openTestDb(undefined, { database: client, migrations: 'apply' })
    await kv.set(['x'], 'y')
    expect((await kv.get(['x'])).value).toBe('y')
    await kv.close()
    expect(client.prepare('SELECT count(*) FROM kv').pluck().get()).toBe(1)
    client.close()
  })
})

describe("your own Drizzle database: the application's transactions", () => {
  // The application's connection is inside a transaction it opened and has not finished: what Valkeyrie wrote
  // there would be undone by the application's ROLLBACK, so it must write nothing and acknowledge nothing.
  async function appInTransaction() {
    const { client, db } = migratedApp(tempDbPath())
    const kv = await openTestDb(undefined, { database: db, tables: TABLES, sweepInterval: 0 })
    return { client, db, kv }
  }

  it('refuses a commit while the application has a transaction open across an await, and takes no versionstamp', async () => {
    const { client, kv } = await appInTransaction()
    const first = await kv.set(['before'], 1)
    client.exec('BEGIN')
    client.prepare("INSERT INTO todos (id, title) VALUES (1, 'draft')").run()
    const refused = await rejection(kv.set(['inside'], 2))
    expect(refused).toBeInstanceOf(StorageError)
    expect(refused.message).toMatch(/^commit failed: the database connection is inside a transaction Valkeyrie did not start/)
    const atomic = await rejection(kv.atomic().sum(['n'], 1n).commit())
    expect(atomic).toBeInstanceOf(StorageError)
    client.exec('ROLLBACK')

    expect((await kv.get(['inside'])).value).toBeNull()
    expect((await kv.get(['n'])).value).toBeNull()
    const next = await kv.set(['after'], 3)
    expect(BigInt(`0x${next.versionstamp}`)).toBe(BigInt(`0x${first.versionstamp}`) + 1n)
  })

  it('refuses a cleanup while the application has a transaction open, deleting nothing', async () => {
    let now = 1_000
    const { client, db } = migratedApp(tempDbPath())
    const kv = await openTestDb(undefined, { database: db, tables: TABLES, sweepInterval: 0, clock: () => now })
    await kv.set(['short'], 1, { expireIn: 10 })
    now += 100
    client.exec('BEGIN')
    const refused = await rejection(kv.cleanup())
    expect(refused).toBeInstanceOf(StorageError)
    expect(refused.message).toMatch(/^cleanup failed: the database connection is inside a transaction Valkeyrie did not start/)
    client.exec('COMMIT')
    expect(client.prepare('SELECT count(*) FROM app_kv').pluck().get()).toBe(1)
    await kv.cleanup()
    expect(client.prepare('SELECT count(*) FROM app_kv').pluck().get()).toBe(0)
  })

  it('refuses to open while the application has a transaction open', async () => {
    const { client } = migratedApp(tempDbPath())
    client.exec('BEGIN')
    const refused = await rejection(Valkeyrie.open(undefined, { database: client, tables: TABLES }))
    expect(refused).toBeInstanceOf(OpenError)
    expect(refused.message).toMatch(/inside a transaction Valkeyrie did not start/)
    client.exec('ROLLBACK')
    expect(client.prepare('SELECT count(*) FROM app_kv_meta').pluck().get()).toBe(0)
    client.close()
  })

  it('commits normally once the application has finished its transaction', async () => {
    const { client, kv } = await appInTransaction()
    client.exec('BEGIN')
    client.exec('COMMIT')
    await kv.set(['ok'], 1)
    expect((await kv.get(['ok'])).value).toBe(1)
  })
})

describe('drizzle-kit push on a schema without the kv tables', () => {
  // An application whose schema leaves the kv tables out (Valkeyrie's own migrations made them) pushes its schema.
  const project = join(ROOT, '.tmp', `own-drizzle-push-${process.pid}`)
  afterAll(() => rmSync(project, { recursive: true, force: true }))

  async function pushedTables(tablesFilter?: string[]): Promise<string[]> {
    rmSync(project, { recursive: true, force: true })
    mkdirSync(project, { recursive: true })
    writeFileSync(
      join(project, 'schema.ts'),
      "import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'\n" +
        "export const todos = sqliteTable('todos', { id: integer('id').primaryKey(), title: text('title').notNull() })\n",
    )
    const config = { dialect: 'sqlite', schema: './schema.ts', dbCredentials: { url: './app.db' }, tablesFilter }
    writeFileSync(join(project, 'drizzle.config.ts'), `export default ${JSON.stringify(config)}\n`)
    const client = new Database(join(project, 'app.db'))
    client.exec('CREATE TABLE todos (id integer PRIMARY KEY NOT NULL, title text NOT NULL)')
    const kv = await Valkeyrie.open({ database: client, migrations: 'apply' })
    await kv.set(['kept'], true)
    await kv.close()
    client.close()
    // --force: approve data-loss statements without a prompt, as a CI job would.
    execFileSync(process.execPath, [join(ROOT, 'node_modules/drizzle-kit/bin.cjs'), 'push', '--force'], { cwd: project, stdio: 'pipe' })
    const after = new Database(join(project, 'app.db'))
    const names = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]
    after.close()
    return names
  }

  it('drops them without a tablesFilter', async () => {
    expect(await pushedTables()).toEqual(['todos'])
  }, 30_000)

  it("keeps them with the documented tablesFilter", async () => {
    expect(await pushedTables(['!kv', '!kv_meta', '!kv_queue', '!__valkeyrie_migrations'])).toEqual([
      '__valkeyrie_migrations',
      'kv',
      'kv_meta',
      'kv_queue',
      'todos',
    ])
  }, 30_000)
})
