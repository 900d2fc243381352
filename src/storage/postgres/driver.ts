/**
 * The PostgreSQL store as a driver (`postgresDriver`): the public driver contract over the same tables, for
 * the driver contract suite and for composing drivers. Its `withTransaction` holds the database's write lock (the
 * counter row) for the callback, so its transactions serialize with every other writer's.
 */
import { asBuffer, defineDriver, type DriverEntry, type DriverFactory, type KvDriver } from '../driver.js'
import { entryToRow, recordedVersion, recordEntry, recordOf, rowToEntry } from '../driver-entry.js'
import { FORMAT_VERSION } from '../format.js'
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_PG_POOL_SIZE } from '../../limits.js'
import { describeValue } from '../../errors.js'
import type { PgClient, PgQuery, PgResult } from './client.js'
import { openPostgres, validatePostgresOptions } from './open.js'
import { createPgKvTables } from './schema.js'
import { resultsOf, statementsFor, toRow } from './sql.js'
import type { PostgresStorage } from './storage.js'
import { DEFAULT_TABLE_NAMES } from '../sqlite/schema.js'

/** Options of `postgresDriver`. */
export interface PostgresDriverOptions {
  /** The Postgres schema holding the tables (default `public`). */
  schema?: string
  /** How many connections the driver keeps at most (default 10). */
  poolSize?: number
}

class PostgresDriver implements KvDriver {
  readonly #storage: PostgresStorage
  readonly #sql: ReturnType<typeof statementsFor>
  /** The connection of the transaction in progress: the adapter runs one operation at a time. */
  #tx: PgClient | undefined

  constructor(storage: PostgresStorage, statements: ReturnType<typeof statementsFor>) {
    this.#storage = storage
    this.#sql = statements
  }

  async #query(query: PgQuery): Promise<PgResult> {
    return resultsOf(await (this.#tx ?? this.#storage.pool).query(query))[0] as PgResult
  }

  async get(key: Uint8Array): Promise<DriverEntry | undefined> {
    const record = recordOf(key)
    if (record) {
      const meta = (await this.#query(this.#sql.readMeta)).rows[0]
      return recordEntry(
        record,
        meta && { version: Number(meta.version), serializer: meta.serializer as string, formatVersion: Number(meta.format_version) },
      )
    }
    const found = (await this.#query(this.#sql.getRow(asBuffer(key)))).rows[0]
    return found && rowToEntry(toRow(found))
  }

  async set(key: Uint8Array, value: Uint8Array, versionstamp: string, expiresAt: number | null): Promise<void> {
    const record = recordOf(key)
    if (record === 'version') {
      const { rowCount } = await this.#query(this.#sql.writeVersion(recordedVersion(versionstamp)))
      if (rowCount === 0) throw new Error('internal error: the metadata row is missing')
    } else if (record === 'serializer') {
      await this.#query(this.#sql.createMeta(asBuffer(value).toString('utf8'), FORMAT_VERSION))
    } else {
      await this.#query(this.#sql.upsert(entryToRow(asBuffer(key), asBuffer(value), versionstamp, expiresAt)))
    }
  }

  async delete(key: Uint8Array): Promise<void> {
    await this.#query(this.#sql.remove(asBuffer(key)))
  }

  async list(start: Uint8Array, end: Uint8Array, _prefix: Uint8Array, _now: number, limit: number, reverse: boolean) {
    const { rows } = await this.#query(this.#sql.range(asBuffer(start), asBuffer(end), limit, reverse))
    return rows.map((r) => rowToEntry(toRow(r)))
  }

  async cleanup(now: number): Promise<void> {
    await this.#query(this.#sql.cleanup(now))
  }

  async withTransaction<T>(callback: () => Promise<T>): Promise<T> {
    const client = await this.#storage.pool.connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
      await client.query(this.#sql.lockCounter)
      this.#tx = client
      let result: T
      try {
        result = await callback()
      } finally {
        this.#tx = undefined
      }
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((failure: Error) => (broken = failure))
      throw error
    } finally {
      client.release(broken)
    }
  }

  close(): Promise<void> {
    return this.#storage.close()
  }
}

/**
 * The PostgreSQL storage as a driver factory, whose path is the connection URL: `Valkeyrie.open(url,
 * postgresDriver())`. `Valkeyrie.open(url)` uses the same tables directly (and faster); pass the driver to run
 * a driver contract suite or to compose drivers.
 */
export function postgresDriver(options: PostgresDriverOptions = {}): DriverFactory {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`postgresDriver options must be an object: received ${describeValue(options)}`)
  }
  validatePostgresOptions(options)
  const schema = options.schema ?? 'public'
  return defineDriver(async (url) => {
    if (url === undefined) throw new TypeError('postgresDriver needs the connection URL as the path')
    const tables = createPgKvTables(DEFAULT_TABLE_NAMES, { schema })
    const storage = await openPostgres({
      url,
      poolSize: options.poolSize ?? DEFAULT_PG_POOL_SIZE,
      tables,
      durability: 'full',
      busyTimeout: DEFAULT_BUSY_TIMEOUT_MS,
    })
    return new PostgresDriver(storage, statementsFor(tables))
  })
}
