/**
 * The backend matrix: the behaviour suites that describe the public API run once per backend, through
 * `describeBackends`. SQLite in memory (what `Valkeyrie.open()` gives), SQLite in a temporary file, the memory
 * driver, and PostgreSQL (a fresh Postgres schema per database on the run's server, dropped after the test; the
 * row skips when the run has no server, see test/support/postgres-setup.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, afterEach, describe, inject } from 'vitest'
import { defineDriver, type DriverFactory, memoryDriver, postgresDriver, Valkeyrie, type ValkeyrieOptions } from '../../src/index.js'
import { tempDbPath } from './open-test-db.js'

export type BackendName = 'sqlite-memory' | 'sqlite-file' | 'memory-driver' | 'postgres'

/** The stored rows of a database, read and changed beside Valkeyrie (SQL on its kv table). */
export interface RawRows {
  /** How many rows the kv table holds, expired or not. */
  count(): Promise<number>
  /** Replaces the value bytes (and encoding) of the one row whose value is `old`; returns how many rows changed. */
  replaceValue(old: Uint8Array, value: Uint8Array, encoding: number): Promise<number>
}

/** One database of a backend: every `open` of it reaches the same data when the backend is `persistent`. */
export interface Place {
  /** Opens the database; it is closed after the test. */
  open(options?: ValkeyrieOptions): Promise<Valkeyrie>
  /** Opens the database for a test that closes it itself. */
  openOwn(options?: ValkeyrieOptions): Promise<Valkeyrie>
  /** The kv table's rows, on backends that have one. */
  raw?: RawRows
}

export interface Backend {
  readonly name: BackendName
  /** Why the row is skipped in this run; undefined when it runs. */
  readonly unavailable?: string | undefined
  /** Whether data outlives `close()`, and two opens of one place share it (a file, a server). */
  readonly persistent: boolean
  /** Whether a commit costs a disk flush or a round trip (property tests run fewer cases there). */
  readonly slow: boolean
  /** Whether its places have `raw` (a kv table to count and change beside Valkeyrie). */
  readonly rows: boolean
  /** A new, empty database. */
  create(): Place
  /** A fresh empty database, opened; closed (and removed) after the test. */
  open(options?: ValkeyrieOptions): Promise<Valkeyrie>
}

const opened: Valkeyrie[] = []
const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()))
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

const track = async (db: Promise<Valkeyrie>): Promise<Valkeyrie> => {
  const open = await db
  opened.push(open)
  return open
}

function backend(
  name: BackendName,
  traits: { persistent: boolean; slow: boolean; rows: boolean; unavailable?: string | undefined },
  create: () => Omit<Place, 'open'>,
): Backend {
  const make = (): Place => {
    const place = create()
    return { ...place, open: (options) => track(place.openOwn(options)) }
  }
  return { name, ...traits, create: make, open: (options) => make().open(options) }
}

// --- SQLite

const sqliteRows = (path: string): RawRows => {
  const withFile = <T>(fn: (raw: Database.Database) => T): Promise<T> => {
    const raw = new Database(path)
    try {
      return Promise.resolve(fn(raw))
    } finally {
      raw.close()
    }
  }
  return {
    count: () => withFile((raw) => (raw.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n),
    replaceValue: (old, value, encoding) =>
      withFile((raw) => raw.prepare('UPDATE kv SET value = ?, encoding = ? WHERE value = ?').run(value, encoding, old).changes),
  }
}

export const sqliteMemory = backend('sqlite-memory', { persistent: false, slow: false, rows: false }, () => ({
  openOwn: (options) => Valkeyrie.open(undefined, options),
}))

export const sqliteFile = backend('sqlite-file', { persistent: true, slow: true, rows: true }, () => {
  const path = tempDbPath()
  return { openOwn: (options) => Valkeyrie.open(path, options), raw: sqliteRows(path) }
})

export const memory = backend('memory-driver', { persistent: false, slow: false, rows: false }, () => ({
  openOwn: (options) => Valkeyrie.open(undefined, { ...options, driver: memoryDriver }),
}))

// --- PostgreSQL

const provided = inject('postgres')

const postgresUnavailable = provided.skipped

/** The run's server URL; throws where the Postgres row is unavailable. */
export function postgresUrl(): string {
  if (provided.url === undefined || postgresUnavailable) throw new Error(`no Postgres server: ${postgresUnavailable}`)
  return provided.url
}

let admin: pg.Pool | undefined
afterAll(async () => {
  await admin?.end()
  admin = undefined
})

/** A small pool on the run's server for the tests' own SQL (creating and dropping schemas, reading rows). */
export function postgresAdmin(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: postgresUrl(), max: 2, allowExitOnIdle: true, options: '-c lock_timeout=10s' })
  return admin
}

export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`

let schemas = 0
/** A new schema name of this run (`vt_<run>_...`: the global setup drops what is left of them on a server it does not own). */
export const newSchemaName = (label = 's'): string =>
  `vt_${provided.runId}_${label}_${process.pid}_${++schemas}_${randomBytes(2).toString('hex')}`

/** Drops a schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await postgresAdmin().query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`)
}

const postgresRows = (schema: string): RawRows => {
  const table = `${quoteIdentifier(schema)}.kv`
  return {
    count: async () => (await postgresAdmin().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0,
    replaceValue: async (old, value, encoding) =>
      (await postgresAdmin().query(`UPDATE ${table} SET value = $1, encoding = $2 WHERE value = $3`, [
        Buffer.from(value),
        encoding,
        Buffer.from(old),
      ])).rowCount ?? 0,
  }
}

/** The database in `schema` on the run's server (a new schema name by default), dropped after the test. */
export function postgresPlace(schema = newSchemaName()): Place {
  const url = postgresUrl()
  cleanups.push(() => dropSchema(schema))
  const openOwn = (options?: ValkeyrieOptions) => Valkeyrie.open(url, { ...options, schema })
  return { openOwn, open: (options) => track(openOwn(options)), raw: postgresRows(schema) }
}

export const postgres = backend('postgres', { persistent: true, slow: true, rows: true, unavailable: postgresUnavailable }, () =>
  postgresPlace(),
)

/**
 * `postgresDriver` for the driver contract, whose tests pass a fresh file path per database: each path maps to
 * its own schema (the same path, the same schema, so the reopen tests see their data), on the run's server.
 */
export const postgresContractDriver: DriverFactory = defineDriver((path) => {
  const url = postgresUrl()
  const digest = createHash('sha256').update(path ?? '').digest('hex').slice(0, 16)
  return postgresDriver({ schema: `vt_${provided.runId}_c_${digest}` })(url)
})

/** Every row of the matrix. */
export const BACKENDS: readonly Backend[] = [sqliteMemory, sqliteFile, memory, postgres]

/**
 * Registers `fn`'s tests once per backend, as `name [backend]`; a row that is unavailable in this run is
 * skipped (the run printed why, once). `where` narrows the rows, for suites about what only some backends have
 * (`(b) => b.persistent`: data that outlives close).
 */
export function describeBackends(name: string, fn: (backend: Backend) => void, where?: (backend: Backend) => boolean): void {
  for (const b of BACKENDS) {
    if (where && !where(b)) continue
    describe.skipIf(b.unavailable !== undefined)(`${name} [${b.name}]`, () => fn(b))
  }
}
