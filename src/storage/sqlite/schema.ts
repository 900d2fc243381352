/**
 * The tables of the default storage, as a Drizzle schema. drizzle-kit generates `drizzle/` from this file;
 * never edit the migrations by hand.
 */
import { blob, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Names of the tables, for teams that put them in their own database. */
export interface KvTableNames {
  /** The entries table (default `kv`). */
  kv: string
  /** The one-row metadata table (default `kv_meta`). */
  meta: string
  /** The queue messages table (default: the entries table's name with `_queue`, so `kv_queue`). */
  queue?: string | undefined
}

export const DEFAULT_TABLE_NAMES: KvTableNames = { kv: 'kv', meta: 'kv_meta', queue: 'kv_queue' }

/** The queue table's name under `names`. */
export const queueTableName = (names: KvTableNames): string => names.queue ?? `${names.kv}_queue`

/** Builds the entries, metadata and queue tables under the given names. */
export function createKvTables(names: KvTableNames = DEFAULT_TABLE_NAMES) {
  const kv = sqliteTable(
    names.kv,
    {
      /** The encoded key (see key/codec.ts); byte order is key order. */
      key: blob('key', { mode: 'buffer' }).primaryKey(),
      /** The serialized value, or 8 little-endian bytes for a KvU64. */
      value: blob('value', { mode: 'buffer' }).notNull(),
      /** How `value` is encoded: 1 = the database's serializer, 2 = KvU64 (see value.ts). */
      encoding: integer('encoding').notNull(),
      /** The commit counter of the write that stored this row; the versionstamp is derived from it. */
      version: integer('version').notNull(),
      /** Epoch milliseconds after which the entry no longer exists; null means never. */
      expiresAt: integer('expires_at'),
    },
    (t) => [index(`${names.kv}_expires_at_idx`).on(t.expiresAt)],
  )
  const meta = sqliteTable(names.meta, {
    /** Always 1: the table has one row. */
    id: integer('id').primaryKey(),
    /** The last commit counter handed out. */
    version: integer('version').notNull().default(0),
    /** The name of the serializer that writes this database's values. */
    serializer: text('serializer').notNull(),
    /** The storage format version of the rows (bumped when their meaning changes). */
    formatVersion: integer('format_version').notNull(),
  })
  const queueName = queueTableName(names)
  const queue = sqliteTable(
    queueName,
    {
      /** The message's id, in enqueue order. */
      id: integer('id').primaryKey(),
      /** The value bytes, encoded as an entry's. */
      value: blob('value', { mode: 'buffer' }).notNull(),
      /** How `value` is encoded (see value.ts). */
      encoding: integer('encoding').notNull(),
      /** Epoch ms: when the message is ready while idle, when its lease lapses while leased. */
      readyAt: integer('ready_at').notNull(),
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

const tables = createKvTables()
/** The entries table under its default name. */
export const kv = tables.kv
/** The metadata table under its default name. */
export const kvMeta = tables.meta
/** The queue table under its default name. */
export const kvQueue = tables.queue

export type KvTables = ReturnType<typeof createKvTables>
