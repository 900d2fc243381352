/**
 * An application's own connection, with the kv tables inside its own schema (`Valkeyrie.open({ database })`): its
 * tables checked (or migrated when asked), its pragmas left alone but for `synchronous` when durability is asked
 * for, and no write while the application is inside a transaction of its own.
 */
import type Database from 'better-sqlite3'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { getTableConfig } from 'drizzle-orm/sqlite-core'
import { OpenError } from '../../errors.js'
import type { Durability } from '../../types.js'
import { fail, migrate, synchronousFor, type OpenedDatabase } from './database.js'
import { prepareQueries, type KvDatabase } from './queries.js'
import { createKvTables, type KvTableNames, type KvTables, queueTableName } from './schema.js'

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
  if (options.migrations === 'apply' && (options.tables.kv !== 'kv' || options.tables.meta !== 'kv_meta' || queueTableName(options.tables) !== 'kv_queue')) {
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
    return { client, db, queries, ownsClient: false, shownPath, queueTable: getTableConfig(tables.queue).name }
  } catch (error) {
    fail(undefined, shownPath, error)
  }
}

/** Refuses triggers on the kv tables of an application's database: they would rewrite Valkeyrie's writes. */
function assertNoTriggers(db: KvDatabase, tables: KvTables, shownPath: string): void {
  const names = [getTableConfig(tables.kv).name, getTableConfig(tables.meta).name, getTableConfig(tables.queue).name]
  const triggers = db.all<{ name: string; table: string }>(
    sql`SELECT name, tbl_name AS "table" FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (${names[0]}, ${names[1]}, ${names[2]})`,
  )
  if (triggers.length > 0) {
    const list = triggers.map((t) => `${t.name} on ${t.table}`).join(', ')
    throw new OpenError(shownPath, `it has triggers on the Valkeyrie tables, which would rewrite its writes: ${list}`)
  }
}

/** Throws an `OpenError` naming each missing table, column or index of the application-managed tables. */
function assertTables(db: KvDatabase, tables: KvTables, shownPath: string): void {
  const problems: string[] = []
  for (const table of [tables.kv, tables.meta, tables.queue]) {
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

