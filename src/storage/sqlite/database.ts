/**
 * Opening the default storage on a file Valkeyrie owns (or memory): the better-sqlite3 connection, its pragmas, and
 * the tables migrated from `drizzle/`, all before the first read or write. An application's own connection is
 * attach.ts; the file at rest (creation, truncation) is file.ts.
 */
import { dirname, resolve } from 'node:path'
import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator'
import { OpenError } from '../../errors.js'
import { WAL_SIZE_LIMIT_BYTES } from '../../limits.js'
import { FORMAT_VERSION, MIGRATIONS_TABLE } from '../format.js'
import type { Durability } from '../../types.js'
import { foldDriverRecords, hasDriverRecords } from './driver-records.js'
import { openReadOnlyClient } from './read-only.js'
import { prepareQueries, type KvDatabase, type KvQueries } from './queries.js'
import { createKvTables, DEFAULT_TABLE_NAMES } from './schema.js'
import { assertWholeFile, assertWritable, createFileWhole, sleepSync } from './file.js'

/** The folder drizzle-kit writes (shipped in the package beside `dist/`). */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/sqlite', import.meta.url))


/** Open a file (or `':memory:'`) that Valkeyrie owns. */
export interface OpenFileOptions {
  path: string
  durability: Durability
  busyTimeout: number
  /** Read an existing file without writing to it: no creation, no WAL switch, no migration. */
  readOnly?: boolean
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
  /** The queue table's name (default `kv_queue`). */
  queueTable?: string
}

const isMemory = (path: string): boolean => path === ':memory:'

/** Closes `client` and throws `error` as an `OpenError` naming the file (as it is, when it is one). */
export function fail(client: Database.Database | undefined, shownPath: string, error: unknown): never {
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

/**
 * Creates a new database file whole or not at all (file.ts): built (WAL switch, migrations) under a temporary name,
 * closed, then put in place. When another process created the file meanwhile, its file wins.
 */
function createFile(path: string, options: OpenFileOptions): void {
  try {
    createFileWhole(path, (temp) => {
      const client = new Database(temp)
      try {
        configure(client, { ...options, path: temp })
        migrate(client, drizzle({ client }), path, true)
      } finally {
        // The last connection to close checkpoints the WAL into the file and removes the -wal and -shm files.
        client.close()
      }
    })
  } catch (error) {
    fail(undefined, path, error)
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

/** The `synchronous` pragma for a durability. */
export const synchronousFor = (durability: Durability): string => (durability === 'full' ? 'FULL' : 'NORMAL')

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
export function migrate(client: Database.Database, db: KvDatabase, shownPath: string, ownFile: boolean): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
  client
    .transaction(() => {
      // Again under the write lock: another process may have created tables since the first look.
      if (ownFile) assertOwnSchema(db, shownPath)
      createJournal(db)
      const applied = appliedMigration(db)
      if (applied > (migrations.at(-1)?.folderMillis ?? 0)) throw new OpenError(shownPath, NEWER_VERSION)
      for (const migration of migrations) {
        if (applied < migration.folderMillis) applyMigration(db, migration)
      }
      if (ownFile) foldDriverRecords(db, shownPath, FORMAT_VERSION)
    })
    .immediate()
}

/** Throws unless every migration of this version has been applied (a read-only open cannot apply one). */
function assertMigrated(db: KvDatabase, shownPath: string): void {
  const newest = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).at(-1)?.folderMillis ?? 0
  const applied = schemaObjects(db).includes(`table ${MIGRATIONS_TABLE}`) ? appliedMigration(db) : 0
  if (applied > newest) throw new OpenError(shownPath, NEWER_VERSION)
  if (applied < newest) {
    throw new OpenError(
      shownPath,
      'it needs a migration to this version of Valkeyrie, which a read-only open cannot apply: open it once without readOnly',
    )
  }
}

const NEWER_VERSION = 'it was written by a newer version of Valkeyrie'

/** When the newest migration the journal records was made (its folder's timestamp; 0 when none is). */
function appliedMigration(db: KvDatabase): number {
  const last = db.get<{ created_at: number } | undefined>(
    sql`SELECT created_at FROM ${sql.identifier(MIGRATIONS_TABLE)} ORDER BY created_at DESC LIMIT 1`,
  )
  return Number(last?.created_at ?? 0)
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
