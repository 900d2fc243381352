/**
 * `valkeyrie/drizzle`: the kv tables as Drizzle table definitions, for applications that keep them in their own
 * database under their own drizzle-kit migrations.
 *
 * @example
 * // schema.ts of your application
 * import { createKvTables } from 'valkeyrie/drizzle'
 * export const { kv, meta: kvMeta } = createKvTables({ kv: 'app_kv', meta: 'app_kv_meta' })
 * // then: Valkeyrie.open(undefined, { database: db, tables: { kv: 'app_kv', meta: 'app_kv_meta' } })
 */
export { createKvTables, DEFAULT_TABLE_NAMES, kv, kvMeta, type KvTableNames, type KvTables } from './storage/schema.js'
