/**
 * Every query of the default storage: built by Drizzle from the schema and prepared once per database.
 *
 * The statements on the hot paths (point reads, range reads, writes, the commit counter) run through the
 * better-sqlite3 statement Drizzle prepared, with their parameters bound by position: Drizzle's own `get`/`run`
 * look every placeholder up by name on every call, about a microsecond per commit that raw better-sqlite3 does
 * not pay. `positional` checks once, at open, that the parameter order is the one the call sites use.
 */
import type { Statement } from 'better-sqlite3'
import { and, asc, desc, eq, getTableName, gte, is, isNotNull, lt, lte, Param, Placeholder, sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { META_ID } from '../format.js'
import type { KvRow } from '../store.js'
import type { KvTables } from './schema.js'

/** A Drizzle database over better-sqlite3. */
export type KvDatabase = BetterSQLite3Database<Record<string, never>>


/** Column types whose Drizzle encoder passes values through unchanged, so binding them directly is equivalent. */
const PASS_THROUGH_COLUMNS = new Set(['SQLiteBlobBuffer', 'SQLiteInteger'])

interface DrizzlePrepared {
  getQuery(): { sql: string; params: unknown[] }
}

/** The name of a placeholder parameter (bare, or wrapped with a pass-through column encoder). */
function placeholderName(param: unknown): string | undefined {
  if (is(param, Placeholder)) return param.name
  if (is(param, Param) && is(param.value, Placeholder)) {
    const encoder = param.encoder as { columnType?: string } | undefined
    if (encoder && PASS_THROUGH_COLUMNS.has(encoder.columnType ?? '')) return param.value.name
  }
  return undefined
}

/** The better-sqlite3 statement behind a Drizzle prepared query, whose parameters must be exactly `names`, in order. */
function positional<TArgs extends unknown[], TRow = unknown>(prepared: DrizzlePrepared, names: readonly string[]) {
  const actual = prepared.getQuery().params.map(placeholderName)
  if (actual.length !== names.length || actual.some((name, i) => name !== names[i])) {
    throw new Error(`internal error: query parameters are [${actual.join(', ')}], expected [${names.join(', ')}]`)
  }
  return (prepared as unknown as { stmt: Statement<TArgs, TRow> }).stmt
}

/** Prepares the statements of one database. */
export function prepareQueries(db: KvDatabase, { kv, meta }: KvTables) {
  // `expires_at AS "expiresAt"`: the statement's rows are KvRow objects as they come.
  const row = {
    key: kv.key,
    value: kv.value,
    encoding: kv.encoding,
    version: kv.version,
    expiresAt: sql<number | null>`${kv.expiresAt}`.as('expiresAt'),
  }
  const rangeWhere = and(gte(kv.key, sql.placeholder('start')), lt(kv.key, sql.placeholder('end')))
  const range = (order: typeof asc) =>
    positional<[Buffer, Buffer, number], KvRow>(
      db.select(row).from(kv).where(rangeWhere).orderBy(order(kv.key)).limit(sql.placeholder('limit')).prepare(),
      ['start', 'end', 'limit'],
    )
  // A point read does not select the key it was given: copying the blob out again would cost an allocation a row.
  const { key: _key, ...pointRow } = row
  const readRow = positional<[Buffer], Omit<KvRow, 'key'> & { key?: Buffer }>(
    db.select(pointRow).from(kv).where(eq(kv.key, sql.placeholder('key'))).prepare(),
    ['key'],
  )
  const readRangeAsc = range(asc)
  const readRangeDesc = range(desc)
  const writeRow = positional<[Buffer, Buffer, number, number, number | null]>(
    db
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
    ['key', 'value', 'encoding', 'version', 'expiresAt'],
  )
  const removeRow = positional<[Buffer]>(db.delete(kv).where(eq(kv.key, sql.placeholder('key'))).prepare(), ['key'])
  const removeExpiredRow = positional<[Buffer, number]>(
    db
      .delete(kv)
      .where(and(eq(kv.key, sql.placeholder('key')), lte(kv.expiresAt, sql.placeholder('now'))))
      .prepare(),
    ['key', 'now'],
  )
  const readVersion = positional<[number], { version: number }>(
    db.select({ version: meta.version }).from(meta).where(eq(meta.id, sql.placeholder('id'))).prepare(),
    ['id'],
  )
  const writeVersion = positional<[number, number]>(
    db
      .update(meta)
      .set({ version: sql`${sql.placeholder('version')}` })
      .where(eq(meta.id, sql.placeholder('id')))
      .prepare(),
    ['version', 'id'],
  )
  return {
    readRow: (key: Buffer): KvRow | undefined => {
      const found = readRow.get(key)
      if (found) found.key = key
      return found as KvRow | undefined
    },
    readRange: (start: Buffer, end: Buffer, limit: number, reverse: boolean): KvRow[] =>
      (reverse ? readRangeDesc : readRangeAsc).all(start, end, limit),
    writeRow: (r: KvRow): void => void writeRow.run(r.key, r.value, r.encoding, r.version, r.expiresAt),
    removeRow: (key: Buffer): void => void removeRow.run(key),
    removeExpiredRow: (key: Buffer, now: number): void => void removeExpiredRow.run(key, now),
    readVersion: (): number => readVersion.get(META_ID)?.version ?? 0,
    writeVersion: (version: number): void => void writeVersion.run(version, META_ID),
    /** Keys of up to `limit` expired rows, oldest expiry first (uses the expires_at index). */
    expiredKeys: db
      .select({ key: kv.key })
      .from(kv)
      .where(and(isNotNull(kv.expiresAt), lte(kv.expiresAt, sql.placeholder('now'))))
      .orderBy(asc(kv.expiresAt))
      .limit(sql.placeholder('limit'))
      .prepare(),
    readMeta: db.select().from(meta).where(eq(meta.id, META_ID)).prepare(),
    /** How many rows there are, and how many of them are expired at `now` (for `describe`; a full scan). */
    countRows: db
      .select({
        rows: sql<number>`count(*)`.mapWith(Number),
        expired: sql<number>`coalesce(sum(${kv.expiresAt} <= ${sql.placeholder('now')}), 0)`.mapWith(Number),
      })
      .from(kv)
      .prepare(),
    /** The names of the two tables. */
    tableNames: { kv: getTableName(kv), meta: getTableName(meta) },
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
  }
}

export type KvQueries = ReturnType<typeof prepareQueries>
