/**
 * Opening the default storage: the better-sqlite3 connection (a file, memory, or a connection the application
 * already has), its pragmas, and the tables: migrated from `drizzle/`, or checked when the application migrates
 * them itself. All of it before the first read or write.
 */
import { randomBytes } from 'node:crypto'
import { accessSync, closeSync, constants, copyFileSync, existsSync, linkSync, openSync, readSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator'
import { getTableConfig } from 'drizzle-orm/sqlite-core'
import { OpenError } from '../errors.js'
import { WAL_SIZE_LIMIT_BYTES } from '../limits.js'
import type { Durability } from '../types.js'
import { foldDriverRecords, hasDriverRecords } from './driver-records.js'
import { openReadOnlyClient } from './read-only.js'
import { prepareQueries, type KvDatabase, type KvQueries } from './queries.js'
import { createKvTables, DEFAULT_TABLE_NAMES, type KvTableNames, type KvTables } from './schema.js'

/** Meaning of the rows; bump with a migration when it changes. */
export const FORMAT_VERSION = 1
/** Our own migrations journal, so it never mixes with an application's `__drizzle_migrations`. */
export const MIGRATIONS_TABLE = '__valkeyrie_migrations'
/** The folder drizzle-kit writes (shipped in the package beside `dist/`). */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))

/** How long a write waits for another process's lock by default, in ms. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/** Open a file (or `':memory:'`) that Valkeyrie owns. */
export interface OpenFileOptions {
  path: string
  durability: Durability
  busyTimeout: number
  /** Read an existing file without writing to it: no creation, no WAL switch, no migration. */
  readOnly?: boolean
}

/** Use a connection the application owns, with the kv tables inside its own schema. */
export interface AttachOptions {
  /** A better-sqlite3 connection, or a Drizzle database over one. */
  database: Database.Database | { $client: Database.Database }
  /** Table names, when the application chose its own (default `kv` and `kv_meta`). */
  tables: KvTableNames
  /** `'skip'`: the application's migrations create the tables (checked at open); `'apply'`: run ours. */
  migrations: 'apply' | 'skip'
  /** Set on the connection when given (it then applies to the application's writes too); else left as it is. */
  durability: Durability | undefined
}

export interface OpenedDatabase {
  client: Database.Database
  db: KvDatabase
  queries: KvQueries
  /** Whether closing the database closes the connection (not when the application owns it). */
  ownsClient: boolean
  /** The path shown in errors. */
  shownPath: string
  /** Opened to read only: nothing may be written, the serializer record included. */
  readOnly?: boolean
}

const isMemory = (path: string): boolean => path === ':memory:'

function fail(client: Database.Database | undefined, shownPath: string, error: unknown): never {
  client?.close()
  if (error instanceof OpenError) throw error
  throw new OpenError(shownPath, (error as Error).message, { cause: error })
}

/** Opens (creating when absent) and migrates a database file. Throws `OpenError` naming the file and the cause. */
export function openDatabase(options: OpenFileOptions): OpenedDatabase {
  const { path } = options
  const shownPath = isMemory(path) ? path : resolve(path)
  if (!isMemory(path)) {
    const folder = dirname(shownPath)
    if (!existsSync(folder)) throw new OpenError(shownPath, `the folder ${folder} does not exist`)
    if (options.readOnly && !existsSync(shownPath)) {
      throw new OpenError(shownPath, 'it does not exist (a read-only open never creates a file)')
    }
    if (!options.readOnly) assertWritable(shownPath, folder)
    if (!existsSync(shownPath)) createFile(shownPath, options)
    if (statSync(shownPath).isDirectory()) throw new OpenError(shownPath, 'it is a directory, not a database file')
    assertWholeFile(shownPath)
    if (options.readOnly) return openReadOnly(options, shownPath)
  }
  let client: Database.Database | undefined
  try {
    client = new Database(path)
    const db = drizzle({ client })
    client.pragma(`busy_timeout = ${options.busyTimeout}`)
    // Checked before anything can write: reading the schema fails fast (SQLITE_NOTADB) on a file that is not a
    // database, and a database of another application is refused before the WAL switch rewrites its header.
    assertOwnSchema(db, shownPath)
    configure(client, options)
    migrate(client, db, shownPath, true)
    const tables = createKvTables(DEFAULT_TABLE_NAMES)
    const queries = prepareQueries(db, tables)
    return { client, db, queries, ownsClient: true, shownPath }
  } catch (error) {
    fail(client, shownPath, error)
  }
}

/** Reads a Valkeyrie file without writing anything: its schema must be ours and fully migrated. */
function openReadOnly(options: OpenFileOptions, shownPath: string): OpenedDatabase {
  let client: Database.Database | undefined
  try {
    client = openReadOnlyClient(shownPath)
    const db = drizzle({ client })
    client.pragma(`busy_timeout = ${options.busyTimeout}`)
    assertOwnSchema(db, shownPath)
    assertMigrated(db, shownPath)
    if (hasDriverRecords(db)) {
      throw new OpenError(shownPath, 'its commit counter and serializer records need merging, which a read-only open cannot do: open it once without readOnly')
    }
    const queries = prepareQueries(db, createKvTables(DEFAULT_TABLE_NAMES))
    return { client, db, queries, ownsClient: true, shownPath, readOnly: true }
  } catch (error) {
    fail(client, shownPath, error)
  }
}

/**
 * Refuses, with the reason, a file or folder this process may not write: SQLite would otherwise open the file
 * read-only without a word and fail at the first write.
 */
function assertWritable(path: string, folder: string): void {
  const hint = 'open it with readOnly: true to read it'
  if (existsSync(path) && !canWrite(path)) throw new OpenError(path, `it is read-only for this process: ${hint}`)
  if (!canWrite(folder)) {
    const why = existsSync(path) ? `SQLite keeps its -wal and -shm files there: ${hint}` : 'the file cannot be created'
    throw new OpenError(path, `its folder ${folder} is read-only for this process, and ${why}`)
  }
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Creates a new database file whole or not at all: it is built (WAL switch, migrations) under a temporary name in
 * the same folder, closed, then linked into place, so a failed creation (a full disk) leaves nothing behind and
 * no other process ever sees a half-made file. When another process created the file meanwhile, its file wins.
 */
function createFile(path: string, options: OpenFileOptions): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.new`)
  let client: Database.Database | undefined
  try {
    client = new Database(temp)
    configure(client, { ...options, path: temp })
    migrate(client, drizzle({ client }), path, true)
    // The last connection to close checkpoints the WAL into the file and removes the -wal and -shm files.
    client.close()
    client = undefined
    placeNewFile(temp, path)
  } catch (error) {
    fail(client, path, error)
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(temp + suffix, { force: true })
  }
}

/** Puts the finished file at `path` unless a file is there already (never replacing one). */
function placeNewFile(temp: string, path: string): void {
  try {
    linkSync(temp, path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return
    // A file system without hard links: an exclusive copy, which also never replaces a file.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error
    try {
      copyFileSync(temp, path, constants.COPYFILE_EXCL)
    } catch (copyError) {
      if ((copyError as NodeJS.ErrnoException).code !== 'EEXIST') throw copyError
    }
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Refuses a SQLite file shorter than its header says, before SQLite opens it: a truncated database would
 * otherwise open and fail (or lose data) later. Other files are left for SQLite to judge (SQLITE_NOTADB).
 * See https://www.sqlite.org/fileformat.html#the_database_header for the fields read here.
 *
 * The bytes are read without a lock, so this looks only at a file at rest: with a `-wal` file beside it another
 * connection may be checkpointing (writing page 1 before the pages after it), and a short file is read again a
 * few times before it is called truncated.
 */
function assertWholeFile(path: string): void {
  if (existsSync(`${path}-wal`)) return
  for (let attempt = 0; ; attempt++) {
    const shortfall = headerShortfall(path)
    if (shortfall === undefined) return
    if (attempt === 3) throw new OpenError(path, `it is truncated (${shortfall.size} bytes, but its header says ${shortfall.expected})`)
    sleepSync(20)
  }
}

/** The file's size and the size its header gives, when the file is a SQLite database shorter than that. */
function headerShortfall(path: string): { size: number; expected: number } | undefined {
  const header = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  let read: number
  try {
    read = readSync(fd, header, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  const size = statSync(path).size
  if (read < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) return undefined
  const rawPageSize = header.readUInt16BE(16)
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize
  // The page count in the header is valid only when its "version-valid-for" number matches the change counter.
  const pageCount = header.readUInt32BE(92) === header.readUInt32BE(24) ? header.readUInt32BE(28) : 0
  const expected = pageSize * pageCount
  return size < expected ? { size, expected } : undefined
}

/**
 * Throws unless the application's connection is outside any transaction. Inside one, better-sqlite3 turns our
 * transaction into a savepoint of the application's: its ROLLBACK would undo a write we had acknowledged and
 * hand its versionstamp out again.
 */
export function assertOutsideTransaction(client: Database.Database): void {
  if (client.inTransaction) {
    throw new Error(
      'the database connection is inside a transaction Valkeyrie did not start, whose rollback would undo this ' +
        'write: finish that transaction first (nothing was written)',
    )
  }
}

/** Uses an application's connection: its pragmas are left as they are, but for `synchronous` when durability is asked for. */
export function attachDatabase(options: AttachOptions): OpenedDatabase {
  const client = 'prepare' in options.database ? options.database : options.database.$client
  const shownPath = client.memory ? ':memory:' : client.name
  if (options.migrations === 'apply' && (options.tables.kv !== 'kv' || options.tables.meta !== 'kv_meta')) {
    throw new TypeError("migrations: 'apply' creates the default table names only; with your own names, use 'skip'")
  }
  try {
    assertOutsideTransaction(client)
    if (options.durability !== undefined) client.pragma(`synchronous = ${synchronousFor(options.durability)}`)
    const db = drizzle({ client })
    const tables = createKvTables(options.tables)
    if (options.migrations === 'apply') migrate(client, db, shownPath, false)
    else assertTables(db, tables, shownPath)
    assertNoTriggers(db, tables, shownPath)
    const queries = prepareQueries(db, tables)
    return { client, db, queries, ownsClient: false, shownPath }
  } catch (error) {
    fail(undefined, shownPath, error)
  }
}

/**
 * Throws unless the database is empty, or holds only objects Valkeyrie's migrations create: another application's
 * tables, and any trigger, view or index planted beside ours (a trigger would rewrite every later write), are
 * refused before anything is written.
 */
function assertOwnSchema(db: KvDatabase, shownPath: string): void {
  const objects = schemaObjects(db)
  if (objects.length === 0) return
  const own = ownSchemaObjects()
  const foreign = objects.filter((object) => !own.has(object))
  if (!objects.includes(`table ${MIGRATIONS_TABLE}`)) {
    throw new OpenError(shownPath, `it is not a Valkeyrie database (it has other objects: ${objects.join(', ')})`)
  }
  if (foreign.length > 0) {
    throw new OpenError(shownPath, `it has objects Valkeyrie did not create: ${foreign.join(', ')}`)
  }
}

/** Every schema object of the database as `type name` (`type name on table` for indexes and triggers). */
const schemaObjects = (db: KvDatabase): string[] =>
  db
    .all<{ type: string; name: string; table: string }>(
      sql`SELECT type, name, tbl_name AS "table" FROM sqlite_master WHERE lower(substr(name, 1, 7)) <> 'sqlite_' ORDER BY rowid`,
    )
    .map(({ type, name, table }) => (type === 'index' || type === 'trigger' ? `${type} ${name} on ${table}` : `${type} ${name}`))

let ownObjects: ReadonlySet<string> | undefined

/**
 * The objects Valkeyrie's own migrations create, at every step (a file may be at an older one): found by
 * replaying the journal and the migrations on an empty database in memory, once per process, so the list is
 * never written down a second time.
 */
function ownSchemaObjects(): ReadonlySet<string> {
  if (ownObjects) return ownObjects
  const client = new Database(':memory:')
  try {
    const db = drizzle({ client })
    const found = new Set<string>()
    createJournal(db)
    for (const object of schemaObjects(db)) found.add(object)
    for (const migration of readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })) {
      applyMigration(db, migration)
      for (const object of schemaObjects(db)) found.add(object)
    }
    ownObjects = found
    return found
  } finally {
    client.close()
  }
}

/** Refuses triggers on the kv tables of an application's database: they would rewrite Valkeyrie's writes. */
function assertNoTriggers(db: KvDatabase, tables: KvTables, shownPath: string): void {
  const names = [getTableConfig(tables.kv).name, getTableConfig(tables.meta).name]
  const triggers = db.all<{ name: string; table: string }>(
    sql`SELECT name, tbl_name AS "table" FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (${names[0]}, ${names[1]})`,
  )
  if (triggers.length > 0) {
    const list = triggers.map((t) => `${t.name} on ${t.table}`).join(', ')
    throw new OpenError(shownPath, `it has triggers on the Valkeyrie tables, which would rewrite its writes: ${list}`)
  }
}

/** Throws an `OpenError` naming each missing table, column or index of the application-managed tables. */
function assertTables(db: KvDatabase, tables: KvTables, shownPath: string): void {
  const problems: string[] = []
  for (const table of [tables.kv, tables.meta]) {
    const config = getTableConfig(table)
    const columns = db.all<{ name: string }>(sql`SELECT name FROM pragma_table_info(${config.name})`).map((c) => c.name)
    if (columns.length === 0) {
      problems.push(`table ${config.name} is missing`)
      continue
    }
    const missing = config.columns.map((c) => c.name).filter((name) => !columns.includes(name))
    if (missing.length > 0) problems.push(`table ${config.name} lacks column(s) ${missing.join(', ')}`)
    for (const index of config.indexes) {
      const name = index.config.name
      const found = db.all(sql`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ${name}`)
      if (found.length === 0) problems.push(`index ${name} is missing`)
    }
  }
  if (problems.length > 0) {
    throw new OpenError(
      shownPath,
      `its Valkeyrie tables are missing or out of date (${problems.join('; ')}): add the tables from ` +
        "createKvTables() in 'valkeyrie/drizzle' to your Drizzle schema and run your migrations",
    )
  }
}

/** WAL and `synchronous`. */
function configure(client: Database.Database, { path, durability, busyTimeout }: OpenFileOptions): void {
  if (!isMemory(path)) {
    // WAL is recorded in the file: once one process has switched it, the others only read the mode.
    const current = String(withBusyRetry(busyTimeout, () => client.pragma('journal_mode', { simple: true })))
    if (current.toLowerCase() !== 'wal') {
      const mode = withBusyRetry(busyTimeout, () => client.pragma('journal_mode = WAL', { simple: true }))
      if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch to WAL mode (journal_mode is ${mode})`)
    }
  }
  // better-sqlite3 does not keep `synchronous` across opens of a WAL file, so it is set on every open.
  client.pragma(`synchronous = ${synchronousFor(durability)}`)
  // Without a limit the WAL keeps the size of the largest transaction ever written until the last connection closes.
  client.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`)
}

const synchronousFor = (durability: Durability): string => (durability === 'full' ? 'FULL' : 'NORMAL')

/**
 * Runs `fn`, retrying on SQLITE_BUSY until `busyTimeout` ms have passed. Changing the journal mode needs an
 * exclusive lock, and SQLite answers BUSY at once, without the busy handler, when another connection holds one
 * (several processes opening a new file together), so the wait is ours to do.
 */
function withBusyRetry<T>(busyTimeout: number, fn: () => T): T {
  const deadline = Date.now() + busyTimeout
  for (let attempt = 1; ; attempt++) {
    try {
      return fn()
    } catch (error) {
      const code = (error as { code?: string }).code ?? ''
      if (!code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error
      sleepSync(Math.min(50, attempt * 2 + Math.random() * 5))
    }
  }
}

/**
 * Applies pending migrations from `drizzle/` inside one BEGIN IMMEDIATE transaction, so that several processes
 * opening a new file at the same moment serialize here and each sees the others' work.
 */
function migrate(client: Database.Database, db: KvDatabase, shownPath: string, ownFile: boolean): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
  client
    .transaction(() => {
      // Again under the write lock: another process may have created tables since the first look.
      if (ownFile) assertOwnSchema(db, shownPath)
      createJournal(db)
      const last = db.get<{ created_at: number } | undefined>(
        sql`SELECT created_at FROM ${sql.identifier(MIGRATIONS_TABLE)} ORDER BY created_at DESC LIMIT 1`,
      )
      const newest = migrations.at(-1)?.folderMillis ?? 0
      if (last && Number(last.created_at) > newest) {
        throw new OpenError(shownPath, 'it was written by a newer version of Valkeyrie')
      }
      for (const migration of migrations) {
        if (last && Number(last.created_at) >= migration.folderMillis) continue
        applyMigration(db, migration)
      }
      if (ownFile) foldDriverRecords(db, shownPath, FORMAT_VERSION)
    })
    .immediate()
}

/** Throws unless every migration of this version has been applied (a read-only open cannot apply one). */
function assertMigrated(db: KvDatabase, shownPath: string): void {
  const newest = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).at(-1)?.folderMillis ?? 0
  const hasJournal = schemaObjects(db).includes(`table ${MIGRATIONS_TABLE}`)
  const last = hasJournal
    ? db.get<{ created_at: number } | undefined>(
        sql`SELECT created_at FROM ${sql.identifier(MIGRATIONS_TABLE)} ORDER BY created_at DESC LIMIT 1`,
      )
    : undefined
  const applied = Number(last?.created_at ?? 0)
  if (applied > newest) throw new OpenError(shownPath, 'it was written by a newer version of Valkeyrie')
  if (applied < newest) {
    throw new OpenError(
      shownPath,
      'it needs a migration to this version of Valkeyrie, which a read-only open cannot apply: open it once without readOnly',
    )
  }
}

/** Creates our migrations journal when absent. */
function createJournal(db: KvDatabase): void {
  db.run(sql`CREATE TABLE IF NOT EXISTS ${sql.identifier(MIGRATIONS_TABLE)} (
    id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)`)
}

/** Runs one migration's statements and records it in the journal. */
function applyMigration(db: KvDatabase, migration: MigrationMeta): void {
  for (const statement of migration.sql) if (statement.trim()) db.run(sql.raw(statement))
  db.run(sql`INSERT INTO ${sql.identifier(MIGRATIONS_TABLE)} (hash, created_at)
    VALUES (${migration.hash}, ${migration.folderMillis})`)
}

/** Blocks for `ms`: opening is synchronous, like the rest of better-sqlite3. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
