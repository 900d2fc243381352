/**
 * Opening the default storage: the better-sqlite3 connection, its pragmas, the migrations in `drizzle/` and the
 * metadata row, all checked before the first read or write.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { OpenError } from '../errors.js'
import type { Durability } from '../types.js'
import { prepareQueries, type KvDatabase, type KvQueries } from './queries.js'
import { createKvTables, DEFAULT_TABLE_NAMES } from './schema.js'

/** Meaning of the rows; bump with a migration when it changes. */
export const FORMAT_VERSION = 1
/** Our own migrations journal, so it never mixes with an application's `__drizzle_migrations`. */
export const MIGRATIONS_TABLE = '__valkeyrie_migrations'
/** The folder drizzle-kit writes (shipped in the package beside `dist/`). */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))

export interface OpenDatabaseOptions {
  /** A file path, or `':memory:'`. */
  path: string
  /** Name recorded for the serializer; a database written by another one is refused. */
  serializer: string
  durability: Durability
  busyTimeout: number
}

export interface OpenedDatabase {
  client: Database.Database
  db: KvDatabase
  queries: KvQueries
}

const isMemory = (path: string): boolean => path === ':memory:'

/** Opens (creating when absent) and migrates a database. Throws `OpenError` naming the file and the cause. */
export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const { path } = options
  const shownPath = isMemory(path) ? path : resolve(path)
  if (!isMemory(path)) {
    const folder = dirname(shownPath)
    if (!existsSync(folder)) throw new OpenError(shownPath, `the folder ${folder} does not exist`)
    if (existsSync(shownPath) && statSync(shownPath).isDirectory()) {
      throw new OpenError(shownPath, 'it is a directory, not a database file')
    }
  }
  let client: Database.Database
  try {
    client = new Database(path)
  } catch (error) {
    throw new OpenError(shownPath, (error as Error).message, { cause: error })
  }
  try {
    const db = drizzle({ client })
    client.pragma(`busy_timeout = ${options.busyTimeout}`)
    // Checked before anything can write: reading the schema fails fast (SQLITE_NOTADB) on a file that is not a
    // database, and a database of another application is refused before the WAL switch rewrites its header.
    assertOwnSchema(db, shownPath)
    configure(client, options)
    migrate(client, db, shownPath)
    const queries = prepareQueries(db, createKvTables(DEFAULT_TABLE_NAMES))
    checkMeta(client, queries, options, shownPath)
    return { client, db, queries }
  } catch (error) {
    client.close()
    if (error instanceof OpenError) throw error
    throw new OpenError(shownPath, (error as Error).message, { cause: error })
  }
}

/** Throws unless the database is empty or has Valkeyrie's migrations journal. */
function assertOwnSchema(db: KvDatabase, shownPath: string): void {
  const tables = db.all<{ name: string }>(
    sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
  )
  const names = tables.map((t) => t.name)
  if (names.length > 0 && !names.includes(MIGRATIONS_TABLE)) {
    throw new OpenError(shownPath, `it is not a Valkeyrie database (it has other tables: ${names.join(', ')})`)
  }
}

/** WAL and `synchronous`, after the busy timeout so the WAL switch waits for other processes opening the file. */
function configure(client: Database.Database, { path, durability }: OpenDatabaseOptions): void {
  if (!isMemory(path)) {
    const mode = client.pragma('journal_mode = WAL', { simple: true })
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch to WAL mode (journal_mode is ${mode})`)
  }
  // better-sqlite3 does not keep `synchronous` across opens of a WAL file, so it is set on every open.
  client.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
}

/**
 * Applies pending migrations from `drizzle/` inside one BEGIN IMMEDIATE transaction, so that several processes
 * opening a new file at the same moment serialize here and each sees the others' work.
 */
function migrate(client: Database.Database, db: KvDatabase, shownPath: string): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
  client
    .transaction(() => {
      // Again under the write lock: another process may have created tables since the first look.
      assertOwnSchema(db, shownPath)
      db.run(sql`CREATE TABLE IF NOT EXISTS ${sql.identifier(MIGRATIONS_TABLE)} (
        id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)`)
      const last = db.get<{ created_at: number } | undefined>(
        sql`SELECT created_at FROM ${sql.identifier(MIGRATIONS_TABLE)} ORDER BY created_at DESC LIMIT 1`,
      )
      const newest = migrations.at(-1)?.folderMillis ?? 0
      if (last && Number(last.created_at) > newest) {
        throw new OpenError(shownPath, 'it was written by a newer version of Valkeyrie')
      }
      for (const migration of migrations) {
        if (last && Number(last.created_at) >= migration.folderMillis) continue
        for (const statement of migration.sql) if (statement.trim()) db.run(sql.raw(statement))
        db.run(sql`INSERT INTO ${sql.identifier(MIGRATIONS_TABLE)} (hash, created_at)
          VALUES (${migration.hash}, ${migration.folderMillis})`)
      }
    })
    .immediate()
}

function checkMeta(client: Database.Database, queries: KvQueries, options: OpenDatabaseOptions, shownPath: string) {
  const meta = client
    .transaction(() => {
      queries.createMeta.run({ serializer: options.serializer, formatVersion: FORMAT_VERSION })
      return queries.readMeta.get()
    })
    .immediate()
  if (!meta) throw new OpenError(shownPath, 'its metadata row is missing')
  if (meta.formatVersion !== FORMAT_VERSION) {
    throw new OpenError(shownPath, `its storage format ${meta.formatVersion} is not supported (expected ${FORMAT_VERSION})`)
  }
  if (meta.serializer !== options.serializer) {
    throw new OpenError(
      shownPath,
      `it was written with the ${meta.serializer} serializer, but was opened with the ${options.serializer} serializer`,
    )
  }
}
