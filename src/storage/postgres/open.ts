/**
 * Opening a PostgreSQL database: from a URL (Valkeyrie's own pool, its migrations applied under an advisory lock)
 * or on an application's node-postgres pool (its own migrations create the tables, checked here, unless it asks
 * for ours).
 */
import { describeValue, OpenError } from '../../errors.js'
import { MAX_PG_IDENTIFIER_BYTES, MAX_PG_POOL_SIZE } from '../../limits.js'
import type { Durability } from '../../types.js'
import { createPool, type PgPool, shownUrl } from './client.js'
import { journalName, migrate, tablesProblem } from './migrate.js'
import { createPgQueue } from './queue.js'
import { getTableConfig } from 'drizzle-orm/pg-core'
import type { PgKvTables } from './schema.js'
import { statementsFor } from './sql.js'
import { pipelinedChannel } from './flights.js'
import { PostgresStorage, transactionSettings } from './storage.js'
import { connectFromPool, connectToUrl } from './listen.js'

/** Checks the PostgreSQL options (before any I/O). */
export function validatePostgresOptions({ schema, poolSize }: { schema?: unknown; poolSize?: unknown }): void {
  if (schema !== undefined && (typeof schema !== 'string' || schema === '' || Buffer.byteLength(schema) > MAX_PG_IDENTIFIER_BYTES)) {
    throw new TypeError(`schema must be the name of a PostgreSQL schema (1 to ${MAX_PG_IDENTIFIER_BYTES} bytes): received ${describeValue(schema)}`)
  }
  if (poolSize !== undefined) {
    if (typeof poolSize !== 'number' || !Number.isInteger(poolSize)) {
      throw new TypeError(`poolSize must be a positive integer: received ${describeValue(poolSize)}`)
    }
    if (poolSize < 1 || poolSize > MAX_PG_POOL_SIZE) throw new RangeError(`poolSize must be between 1 and ${MAX_PG_POOL_SIZE}: received ${poolSize}`)
  }
}

/** Whether a path names a PostgreSQL database. */
export const isPostgresUrl = (path: string | undefined): path is string =>
  path !== undefined && /^postgres(ql)?:\/\//i.test(path)

interface Common {
  tables: PgKvTables
  durability: Durability
  busyTimeout: number
}

/** A database at a URL, on a pool of Valkeyrie's own. */
export interface UrlOptions extends Common {
  url: string
  poolSize: number
}

/** A database on the application's pool. */
export interface PoolOptions extends Common {
  pool: PgPool
  migrations: 'apply' | 'skip'
}

export async function openPostgres(options: UrlOptions | PoolOptions): Promise<PostgresStorage> {
  const own = 'url' in options
  const shownPath = own ? shownUrl(options.url) : 'your PostgreSQL pool'
  const pool = own
    ? await createPool(options).catch((error: Error) => {
        throw new OpenError(shownPath, error.message, { cause: error })
      })
    : options.pool
  try {
    const { tables } = options
    const schema = getTableConfig(tables.kv).schema
    if (own || options.migrations === 'apply') {
      await migrate(pool, schema)
    } else {
      const problem = await tablesProblem(pool, tables)
      if (problem) throw new OpenError(shownPath, problem)
    }
    // A database of our own commits pipelined on a connection of its own, where node-postgres can.
    const commits = own ? await pipelinedChannel(options.url, transactionSettings(options.durability, options.busyTimeout)) : undefined
    return new PostgresStorage({
      pool,
      commits,
      statements: statementsFor(tables),
      queue: createPgQueue(pool, tables),
      ownsPool: own,
      journal: own ? journalName(schema) : undefined,
      durability: options.durability,
      busyTimeout: options.busyTimeout,
      shownPath,
      // watch(): a connection of its own from a URL; on the application's pool, one of its connections.
      listen: own ? connectToUrl(options.url) : connectFromPool(pool),
    })
  } catch (error) {
    if (own) await pool.end().catch(() => {})
    if (error instanceof OpenError) throw error
    throw new OpenError(shownPath, (error as Error)?.message ?? String(error), { cause: error })
  }
}
