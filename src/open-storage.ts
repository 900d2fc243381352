/** Chooses and opens the store behind a database: the SQLite file, an application's connection, or a driver. */
import type Database from 'better-sqlite3'
import { DriverStorage, makeDriver } from './driver-store.js'
import type { DriverFactory, KvDriver } from './driver.js'
import { describeValue } from './errors.js'
import type { Storage } from './store.js'
import { attachDatabase, DEFAULT_BUSY_TIMEOUT_MS, openDatabase } from './storage/database.js'
import { DEFAULT_TABLE_NAMES, type KvTableNames } from './storage/schema.js'
import { SqliteStorage } from './storage/sqlite-storage.js'
import type { Durability } from './types.js'

/** Where the data lives, as `Valkeyrie.open`'s options say. */
export interface StorageOptions {
  /** `'full'` (default): an acknowledged write survives power loss. `'relaxed'`: it survives a process crash. */
  durability?: Durability
  /** How long a write waits for another process's lock before failing, in ms (default 5000). */
  busyTimeout?: number
  /** A custom storage: a `defineDriver` factory, or a driver object. */
  driver?: DriverFactory | KvDriver
  /** An open better-sqlite3 connection, or a Drizzle database over one, that holds the kv tables. */
  database?: SqliteConnection | { $client: SqliteConnection }
  /** With `database`: the names of the kv tables, when they are not `kv` and `kv_meta`. */
  tables?: Partial<KvTableNames>
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

/** A store, and how to record or check the serializer in it. */
export type OpenedStorage = Storage & { checkSerializer(name: string, shownPath: string): void | Promise<void> }

/** Validates the storage options (before any I/O). */
export function validateStorageOptions(o: StorageOptions): void {
  const { durability, busyTimeout, driver, database, tables, migrations } = o
  if (durability !== undefined && durability !== 'full' && durability !== 'relaxed') {
    throw new TypeError(`durability must be 'full' or 'relaxed': received ${describeValue(durability)}`)
  }
  if (busyTimeout !== undefined) {
    if (typeof busyTimeout !== 'number' || !Number.isInteger(busyTimeout)) {
      throw new TypeError(`busyTimeout must be a non-negative integer of milliseconds: received ${describeValue(busyTimeout)}`)
    }
    if (busyTimeout < 0 || busyTimeout > 2 ** 31 - 1) {
      throw new RangeError(`busyTimeout must be between 0 and 2147483647: received ${busyTimeout}`)
    }
  }
  if (driver !== undefined && typeof driver !== 'function' && (typeof driver !== 'object' || driver === null)) {
    throw new TypeError(`driver must be a defineDriver factory or a driver object: received ${describeValue(driver)}`)
  }
  if (database !== undefined) {
    const client = typeof database === 'object' && database !== null && '$client' in database ? database.$client : database
    if (typeof (client as Partial<Database.Database> | null)?.prepare !== 'function') {
      throw new TypeError(`database must be a better-sqlite3 connection or a Drizzle database over one: received ${describeValue(database)}`)
    }
  }
  if (driver !== undefined && database !== undefined) throw new TypeError('pass either driver or database, not both')
  if ((driver !== undefined || database !== undefined) && (durability !== undefined || busyTimeout !== undefined)) {
    throw new TypeError('durability and busyTimeout apply to a database file Valkeyrie opens, not to a driver or a database you pass')
  }
  if (database === undefined && (tables !== undefined || migrations !== undefined)) {
    throw new TypeError('tables and migrations apply only with the database option')
  }
  if (migrations !== undefined && migrations !== 'apply' && migrations !== 'skip') {
    throw new TypeError(`migrations must be 'apply' or 'skip': received ${describeValue(migrations)}`)
  }
  if (tables !== undefined) {
    if (typeof tables !== 'object' || tables === null) throw new TypeError(`tables must be an object: received ${describeValue(tables)}`)
    for (const [name, value] of Object.entries(tables)) {
      if (name !== 'kv' && name !== 'meta') throw new TypeError(`tables takes kv and meta: received ${JSON.stringify(name)}`)
      if (typeof value !== 'string' || value === '') throw new TypeError(`tables.${name} must be a non-empty string: received ${describeValue(value)}`)
    }
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
  if (o.database !== undefined) {
    const opened = attachDatabase({
      // The structural type above is what the public options promise; underneath it is a better-sqlite3 Database.
      database: o.database as Database.Database | { $client: Database.Database },
      tables: { ...DEFAULT_TABLE_NAMES, ...o.tables },
      migrations: o.migrations ?? 'skip',
    })
    storage = new SqliteStorage(opened)
    shownPath = opened.shownPath
  } else if (o.driver !== undefined) {
    shownPath = path ?? '(driver without a path)'
    const driver = await makeDriver(o.driver, path, shownPath)
    // The built-in SQLite driver keeps its synchronous fast path; any other goes through the adapter.
    storage = driver instanceof SqliteStorage ? driver : new DriverStorage(driver, clock)
  } else {
    const opened = openDatabase({
      path: path ?? ':memory:',
      durability: o.durability ?? 'full',
      busyTimeout: o.busyTimeout ?? DEFAULT_BUSY_TIMEOUT_MS,
    })
    storage = new SqliteStorage(opened)
    shownPath = opened.shownPath
  }
  try {
    await storage.checkSerializer(serializer, shownPath)
  } catch (error) {
    await Promise.resolve(storage.close()).catch(() => {})
    throw error
  }
  return storage
}
