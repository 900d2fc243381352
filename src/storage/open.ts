/**
 * Chooses and opens the store behind a database: a SQLite file, a PostgreSQL URL, an application's connection
 * (better-sqlite3 or a node-postgres pool), or a driver.
 */
import type Database from 'better-sqlite3'
import { DriverStorage, makeDriver } from './driver-store.js'
import type { DriverFactory, KvDriver } from './driver.js'
import { describeValue, OpenError, SerializerMismatchError } from '../errors.js'
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_PG_POOL_SIZE, MAX_TIMER_MS } from '../limits.js'
import type { Storage } from './store.js'
import { attachDatabase } from './sqlite/attach.js'
import { tableNamesOf, type KvTablesOption } from './sqlite/tables-option.js'
import { openSqliteFile, SqliteStorage } from './sqlite/storage.js'
import type { Durability } from '../types.js'
import { isPostgresClient, isPostgresPool, type PgPool, type PostgresPool } from './postgres/client.js'
import { isPostgresUrl, openPostgres, validatePostgresOptions } from './postgres/open.js'
import { hasDefaultNames, isPgTable, pgTablesOf, type PgKvTablesOption } from './postgres/tables-option.js'

/** Where the data lives, as `Valkeyrie.open`'s options say. */
export interface StorageOptions {
  /** `'full'` (default): an acknowledged write survives power loss. `'relaxed'`: it survives a process crash. */
  durability?: Durability
  /** How long a write waits for another process's lock before failing, in ms (default 5000). */
  busyTimeout?: number
  /** Open an existing file to read only: nothing is written to it, and writes reject with `ReadOnlyError`. */
  readOnly?: boolean
  /** A custom storage: a `defineDriver` factory, or a driver object. */
  driver?: DriverFactory | KvDriver
  /**
   * Your own database that holds the kv tables: an open better-sqlite3 connection, a node-postgres `Pool`, or a
   * Drizzle database over either.
   */
  database?: SqliteConnection | { $client: SqliteConnection } | PostgresPool | { $client: PostgresPool }
  /**
   * With `database`: the kv tables your schema declares with `createKvTables()` (SQLite) or `createPgKvTables()`
   * (PostgreSQL), or their names, when not `kv` and `kv_meta`.
   */
  tables?: KvTablesOption | PgKvTablesOption
  /** PostgreSQL: the schema holding the tables (created with them when Valkeyrie migrates; default `public`). */
  schema?: string
  /** PostgreSQL from a URL: how many connections the database keeps at most (default 10). */
  poolSize?: number
  /** With `database`: `'skip'` (default) when your own migrations create the tables; `'apply'` to run ours. */
  migrations?: 'apply' | 'skip'
}

/**
 * A better-sqlite3 `Database`, described by the members Valkeyrie uses rather than imported from
 * `@types/better-sqlite3`, so the published types stand alone: an application without those types still gets
 * this option checked instead of `any`, and one with them passes its connection as it is.
 */
export interface SqliteConnection {
  /** The file it opened (`':memory:'` in memory). */
  readonly name: string
  readonly memory: boolean
  readonly open: boolean
  readonly inTransaction: boolean
  prepare(source: string): unknown
  exec(source: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  transaction(fn: (...args: never[]) => unknown): unknown
}

/** A store, and how to record the serializer in it: the name recorded comes back (another one's, if it has one). */
export type OpenedStorage = Storage & { recordSerializer(name: string, shownPath: string): string | Promise<string> }

/** Records the serializer in a new store, or refuses, with a `SerializerMismatchError`, one written with another serializer. */
export async function checkSerializer(storage: OpenedStorage, name: string, shownPath: string): Promise<void> {
  const recorded = await storage.recordSerializer(name, shownPath)
  if (recorded !== name) {
    throw new SerializerMismatchError(shownPath, recorded, name)
  }
}

/** Validates the storage options (before any I/O). */
export function validateStorageOptions(o: StorageOptions): void {
  const { durability, busyTimeout, readOnly, driver, database, tables, migrations, schema, poolSize } = o
  if (durability !== undefined && durability !== 'full' && durability !== 'relaxed') {
    throw new TypeError(`durability must be 'full' or 'relaxed': received ${describeValue(durability)}`)
  }
  if (busyTimeout !== undefined) {
    if (typeof busyTimeout !== 'number' || !Number.isInteger(busyTimeout)) {
      throw new TypeError(`busyTimeout must be a non-negative integer of milliseconds: received ${describeValue(busyTimeout)}`)
    }
    if (busyTimeout < 0 || busyTimeout > MAX_TIMER_MS) {
      throw new RangeError(`busyTimeout must be between 0 and ${MAX_TIMER_MS}: received ${busyTimeout}`)
    }
  }
  if (readOnly !== undefined && typeof readOnly !== 'boolean') {
    throw new TypeError(`readOnly must be a boolean: received ${describeValue(readOnly)}`)
  }
  if (driver !== undefined && typeof driver !== 'function' && (typeof driver !== 'object' || driver === null)) {
    throw new TypeError(`driver must be a defineDriver factory or a driver object: received ${describeValue(driver)}`)
  }
  if (database !== undefined) {
    const client = clientOf(database)
    if (isPostgresClient(client)) {
      throw new TypeError('database must be a node-postgres Pool, not a single Client: Valkeyrie runs its transactions on connections of its own')
    }
    if (typeof (client as Partial<Database.Database> | null)?.prepare !== 'function' && !isPostgresPool(client)) {
      throw new TypeError(
        `database must be a better-sqlite3 connection, a node-postgres Pool, or a Drizzle database over one: received ${describeValue(database)}`,
      )
    }
  }
  validatePostgresOptions({ schema, poolSize })
  if (driver !== undefined && database !== undefined) throw new TypeError('pass either driver or database, not both')
  if (driver !== undefined && (durability !== undefined || busyTimeout !== undefined || readOnly !== undefined)) {
    throw new TypeError('durability, busyTimeout and readOnly apply to a database file Valkeyrie opens, not to a driver')
  }
  if (database !== undefined && readOnly !== undefined) {
    throw new TypeError('readOnly applies to a database file Valkeyrie opens: open your own connection read-only instead')
  }
  if (database !== undefined && busyTimeout !== undefined && !isPostgresPool(clientOf(database))) {
    throw new TypeError("busyTimeout applies to a database file Valkeyrie opens: set your connection's own timeout (new Database(path, { timeout }))")
  }
  if (database === undefined && (tables !== undefined || migrations !== undefined)) {
    throw new TypeError('tables and migrations apply only with the database option')
  }
  if (migrations !== undefined && migrations !== 'apply' && migrations !== 'skip') {
    throw new TypeError(`migrations must be 'apply' or 'skip': received ${describeValue(migrations)}`)
  }
  if (database !== undefined && isPostgresPool(clientOf(database))) {
    if (migrations === 'apply' && !hasDefaultNames(pgTablesOf(tables, schema))) {
      throw new TypeError("migrations: 'apply' creates the default table names only; with your own names, use 'skip'")
    }
  } else if (tables !== undefined && Object.values(tables as object).some(isPgTable)) {
    throw new TypeError('tables from createPgKvTables() go with a PostgreSQL database: for SQLite, use createKvTables()')
  } else tableNamesOf(tables)
}

/** The connection inside a `database` option (a Drizzle database's `$client`, or the option itself). */
const clientOf = (database: unknown): unknown =>
  typeof database === 'object' && database !== null && '$client' in database ? database.$client : database

/** Checks what the path means with the options (before any I/O). */
export function validatePathWithOptions(path: string | undefined, o: StorageOptions): void {
  const postgres = (isPostgresUrl(path) && o.driver === undefined) || isPostgresPool(clientOf(o.database))
  if (!postgres && (o.schema !== undefined || o.poolSize !== undefined)) {
    throw new TypeError('schema and poolSize apply to a PostgreSQL database (a postgres:// URL, or a node-postgres pool)')
  }
  if (o.poolSize !== undefined && o.database !== undefined) {
    throw new TypeError('poolSize applies to a database Valkeyrie opens from a URL: size your own pool instead')
  }
  if (postgres && o.readOnly !== undefined) {
    throw new TypeError('readOnly applies to SQLite files: on PostgreSQL, connect as a role that may only read')
  }
  if (o.readOnly && (path === undefined || path === ':memory:')) {
    throw new TypeError('readOnly needs the path of an existing database file: an in-memory database starts empty')
  }
  if (path !== undefined && o.database !== undefined) {
    throw new TypeError(`pass either a path or a database, not both: received the path ${JSON.stringify(path)}`)
  }
}

/** Opens the store the options describe and checks (or records) the serializer. Throws `OpenError` on failure. */
export async function openStorage(
  path: string | undefined,
  o: StorageOptions,
  serializer: string,
  clock: () => number,
): Promise<OpenedStorage> {
  let storage: OpenedStorage
  let shownPath: string
  const durability = o.durability ?? 'full'
  const busyTimeout = o.busyTimeout ?? DEFAULT_BUSY_TIMEOUT_MS
  const pool = clientOf(o.database)
  if (isPostgresPool(pool) || (isPostgresUrl(path) && o.driver === undefined)) {
    const common = { tables: pgTablesOf(o.tables, o.schema), durability, busyTimeout }
    const opened = isPostgresPool(pool)
      ? await openPostgres({ ...common, pool: pool as unknown as PgPool, migrations: o.migrations ?? 'skip' })
      : await openPostgres({ ...common, url: path as string, poolSize: o.poolSize ?? DEFAULT_PG_POOL_SIZE })
    storage = opened
    shownPath = opened.shownPath
  } else if (o.database !== undefined) {
    const opened = attachDatabase({
      // The structural type above is what the public options promise; underneath it is a better-sqlite3 Database.
      database: o.database as Database.Database | { $client: Database.Database },
      tables: tableNamesOf(o.tables),
      migrations: o.migrations ?? 'skip',
      durability: o.durability,
    })
    storage = new SqliteStorage(opened)
    shownPath = opened.shownPath
  } else if (o.driver !== undefined) {
    shownPath = path ?? '(driver without a path)'
    const driver = await makeDriver(o.driver, path, shownPath)
    // The built-in SQLite driver keeps its synchronous fast path; any other goes through the adapter.
    storage = driver instanceof SqliteStorage ? driver : new DriverStorage(driver, clock)
  } else {
    const opened = await openSqliteFile({
      path: path ?? ':memory:',
      durability,
      busyTimeout,
      readOnly: o.readOnly ?? false,
    })
    storage = opened
    shownPath = opened.shownPath
  }
  try {
    await checkSerializer(storage, serializer, shownPath)
  } catch (error) {
    await Promise.resolve(storage.close()).catch(() => {})
    throw error
  }
  return storage
}
