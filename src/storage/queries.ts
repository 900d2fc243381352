/** Every query of the default storage, built once per database as prepared Drizzle statements. */
import { and, asc, desc, eq, gte, isNotNull, lt, lte, sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { KvRow } from '../store.js'
import type { KvTables } from './schema.js'

/** A Drizzle database over better-sqlite3. */
export type KvDatabase = BetterSQLite3Database<Record<string, never>>

const META_ID = 1

/** Prepares the statements of one database. */
export function prepareQueries(db: KvDatabase, { kv, meta }: KvTables) {
  const row = {
    key: kv.key,
    value: kv.value,
    encoding: kv.encoding,
    version: kv.version,
    expiresAt: kv.expiresAt,
  }
  const rangeWhere = and(gte(kv.key, sql.placeholder('start')), lt(kv.key, sql.placeholder('end')))
  return {
    readRow: db.select(row).from(kv).where(eq(kv.key, sql.placeholder('key'))).prepare(),
    readRangeAsc: db
      .select(row)
      .from(kv)
      .where(rangeWhere)
      .orderBy(asc(kv.key))
      .limit(sql.placeholder('limit'))
      .prepare(),
    readRangeDesc: db
      .select(row)
      .from(kv)
      .where(rangeWhere)
      .orderBy(desc(kv.key))
      .limit(sql.placeholder('limit'))
      .prepare(),
    writeRow: db
      .insert(kv)
      .values({
        key: sql.placeholder('key'),
        value: sql.placeholder('value'),
        encoding: sql.placeholder('encoding'),
        version: sql.placeholder('version'),
        expiresAt: sql.placeholder('expiresAt'),
      })
      .onConflictDoUpdate({
        target: kv.key,
        set: {
          value: sql`excluded.${sql.identifier(kv.value.name)}`,
          encoding: sql`excluded.${sql.identifier(kv.encoding.name)}`,
          version: sql`excluded.${sql.identifier(kv.version.name)}`,
          expiresAt: sql`excluded.${sql.identifier(kv.expiresAt.name)}`,
        },
      })
      .prepare(),
    removeRow: db.delete(kv).where(eq(kv.key, sql.placeholder('key'))).prepare(),
    removeExpiredRow: db
      .delete(kv)
      .where(and(eq(kv.key, sql.placeholder('key')), lte(kv.expiresAt, sql.placeholder('now'))))
      .prepare(),
    /** Keys of up to `limit` expired rows, oldest expiry first (uses the expires_at index). */
    expiredKeys: db
      .select({ key: kv.key })
      .from(kv)
      .where(and(isNotNull(kv.expiresAt), lte(kv.expiresAt, sql.placeholder('now'))))
      .orderBy(asc(kv.expiresAt))
      .limit(sql.placeholder('limit'))
      .prepare(),
    readMeta: db.select().from(meta).where(eq(meta.id, META_ID)).prepare(),
    createMeta: db
      .insert(meta)
      .values({
        id: META_ID,
        version: 0,
        serializer: sql.placeholder('serializer'),
        formatVersion: sql.placeholder('formatVersion'),
      })
      .onConflictDoNothing()
      .prepare(),
    readVersion: db.select({ version: meta.version }).from(meta).where(eq(meta.id, META_ID)).prepare(),
    writeVersion: db.update(meta).set({ version: sql`${sql.placeholder('version')}` }).where(eq(meta.id, META_ID)).prepare(),
  }
}

export type KvQueries = ReturnType<typeof prepareQueries>
export type { KvRow }
