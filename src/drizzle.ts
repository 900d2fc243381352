/**
 * `valkeyrie/drizzle`: the kv tables as Drizzle table definitions, for applications that keep them in their own
 * database under their own drizzle-kit migrations.
 *
 * @example
 * // schema.ts of your application
 * import { createKvTables } from 'valkeyrie/drizzle'
 * export const { kv: appKv, meta: appKvMeta, queue: appKvQueue } = createKvTables({ kv: 'app_kv', meta: 'app_kv_meta' })
 * // then, on your connection: Valkeyrie.open({ database: db, tables: { kv: appKv, meta: appKvMeta, queue: appKvQueue } })
 */
export { createKvTables, DEFAULT_TABLE_NAMES, kv, kvMeta, kvQueue, type KvTableNames, type KvTables } from './storage/sqlite/schema.js'
export type { KvTablesOption } from './storage/sqlite/tables-option.js'
export {
  createPgKvTables,
  pgKv,
  pgKvMeta,
  pgKvQueue,
  type PgKvTables,
  type PgKvTablesOptions,
} from './storage/postgres/schema.js'
export type { PgKvTablesOption } from './storage/postgres/tables-option.js'
