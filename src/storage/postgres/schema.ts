/**
 * The tables of the PostgreSQL storage, as a Drizzle pg-core schema: the same columns as the SQLite schema, in
 * Postgres types. drizzle-kit generates `drizzle/postgres/` from this file; never edit the migrations by hand.
 *
 * The key is `bytea`, which Postgres compares as unsigned bytes with the shorter value first on a tie (memcmp),
 * the order of SQLite's BLOBs: key order is byte order on both backends.
 */
import { bigint, bigserial, customType, index, integer, pgSchema, pgTable, smallint, text } from 'drizzle-orm/pg-core'
import { DEFAULT_TABLE_NAMES, type KvTableNames, queueTableName } from '../sqlite/schema.js'

/** `bytea` as Node Buffers (drizzle-orm 0.45's pg-core has no bytea column of its own). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

/** Where the tables live, when not in the connection's default schema (`public`). */
export interface PgKvTablesOptions {
  /** The Postgres schema holding the tables (default: none named, so the connection's search_path finds them, normally in `public`). */
  schema?: string | undefined
}

/** Builds the PostgreSQL entries and metadata tables under the given names (and schema). */
export function createPgKvTables(names: KvTableNames = DEFAULT_TABLE_NAMES, options: PgKvTablesOptions = {}) {
  // One builder either way; the schema is a runtime property of the tables, not part of their types. Drizzle names
  // tables of `public` without a schema (they are found through the connection's search_path).
  const inDefault = options.schema === undefined || options.schema === 'public'
  const table = (inDefault ? pgTable : pgSchema(options.schema as string).table) as typeof pgTable
  const kv = table(
    names.kv,
    {
      /** The encoded key (see key/codec.ts); byte order is key order. */
      key: bytea('key').primaryKey(),
      /** The serialized value, or 8 little-endian bytes for a KvU64. */
      value: bytea('value').notNull(),
      /** How `value` is encoded: 1 = the database's serializer, 2 = KvU64 (see value.ts). */
      encoding: smallint('encoding').notNull(),
      /** The commit counter of the write that stored this row; the versionstamp is derived from it. */
      version: bigint('version', { mode: 'number' }).notNull(),
      /** Epoch milliseconds after which the entry no longer exists; null means never. */
      expiresAt: bigint('expires_at', { mode: 'number' }),
    },
    (t) => [index(`${names.kv}_expires_at_idx`).on(t.expiresAt)],
  )
  const meta = table(names.meta, {
    /** Always 1: the table has one row. Its lock is the database's write lock. */
    id: smallint('id').primaryKey(),
    /** The last commit counter handed out. */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    /** The name of the serializer that writes this database's values. */
    serializer: text('serializer').notNull(),
    /** The storage format version of the rows (bumped when their meaning changes). */
    formatVersion: integer('format_version').notNull(),
  })
  const queueName = queueTableName(names)
  const queue = table(
    queueName,
    {
      /** The message's id, in enqueue order. */
      id: bigserial('id', { mode: 'number' }).primaryKey(),
      /** The value bytes, encoded as an entry's. */
      value: bytea('value').notNull(),
      /** How `value` is encoded (see value.ts). */
      encoding: smallint('encoding').notNull(),
      /** Epoch ms: when the message is ready while idle, when its lease lapses while leased. */
      readyAt: bigint('ready_at', { mode: 'number' }).notNull(),
      /** The lease of the consumer holding the message; null while idle. */
      leaseToken: text('lease_token'),
      /** Deliveries so far. */
      attempts: integer('attempts').notNull(),
      /** The encoded keys written with the value once every delivery failed (a JSON array of hex). */
      keysIfUndelivered: text('keys_if_undelivered').notNull(),
      /** The delays (ms) of the retries left (a JSON array). */
      backoffSchedule: text('backoff_schedule').notNull(),
    },
    (t) => [index(`${queueName}_ready_at_idx`).on(t.readyAt, t.id)],
  )
  return { kv, meta, queue }
}

const tables = createPgKvTables()
/** The PostgreSQL entries table under its default name. */
export const pgKv = tables.kv
/** The PostgreSQL metadata table under its default name. */
export const pgKvMeta = tables.meta
/** The PostgreSQL queue table under its default name. */
export const pgKvQueue = tables.queue

export type PgKvTables = ReturnType<typeof createPgKvTables>
