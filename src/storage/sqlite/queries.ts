/**
 * Every query of the default storage: built by Drizzle from the schema and prepared once per database.
 *
 * The statements on the hot paths (point reads, range reads, writes, the commit counter) run through the
 * better-sqlite3 statement Drizzle prepared, with their parameters bound by position: Drizzle's own `get`/`run`
 * look every placeholder up by name on every call, about a microsecond per commit that raw better-sqlite3 does
 * not pay. `positional` checks once, at open, that the parameter order is the one the call sites use.
 */
import type Database from 'better-sqlite3'
import type { Statement } from 'better-sqlite3'
import { and, asc, desc, eq, getTableName, gte, is, isNotNull, lt, lte, Param, Placeholder, sql } from 'drizzle-orm'
import { getTableConfig } from 'drizzle-orm/sqlite-core'
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

/** The name of this connection's view for one-statement sets (in `temp`: never in the file, seen by no other connection). */
const SET_VIEW = 'valkeyrie_set'

/**
 * A plain set as one statement, in SQLite's own (implicit) transaction: an INSERT into a TEMP view whose INSTEAD OF
 * trigger advances the commit counter and upserts the row under it, returning that counter. The same work as a
 * write transaction that reads the counter, writes the row and writes the counter, in one step instead of five
 * (BEGIN IMMEDIATE, three statements, COMMIT). The view and trigger are TEMP objects of this connection: nothing is
 * added to the file, so other connections and other versions see the schema the migrations made.
 */
export function prepareSingleSet(client: Database.Database, { kv, meta }: KvTables) {
  const q = (name: string): string => `"${name.replaceAll('"', '""')}"`
  const [kvName, metaName] = [q(getTableConfig(kv).name), q(getTableConfig(meta).name)]
  const [key, value, encoding, version, expiresAt] = [kv.key, kv.value, kv.encoding, kv.version, kv.expiresAt].map((c) =>
    q(c.name),
  )
  const metaVersion = `(SELECT ${q(meta.version.name)} FROM main.${metaName} WHERE ${q(meta.id.name)} = ${META_ID})`
  client.exec(`
    DROP VIEW IF EXISTS temp.${SET_VIEW};
    CREATE TEMP VIEW ${SET_VIEW} AS SELECT ${key}, ${value}, ${encoding}, ${expiresAt} FROM main.${kvName};
    CREATE TEMP TRIGGER ${SET_VIEW}_row INSTEAD OF INSERT ON ${SET_VIEW} BEGIN
      UPDATE main.${metaName} SET ${q(meta.version.name)} = ${q(meta.version.name)} + 1 WHERE ${q(meta.id.name)} = ${META_ID};
      INSERT INTO main.${kvName} (${key}, ${value}, ${encoding}, ${version}, ${expiresAt})
        VALUES (NEW.${key}, NEW.${value}, NEW.${encoding}, ${metaVersion}, NEW.${expiresAt})
        ON CONFLICT (${key}) DO UPDATE SET ${value} = excluded.${value}, ${encoding} = excluded.${encoding},
          ${version} = excluded.${version}, ${expiresAt} = excluded.${expiresAt};
    END;
  `)
  // RETURNING is evaluated after the INSTEAD OF trigger has run, so it reads the counter the trigger advanced.
  const statement = client
    .prepare<[Buffer, Buffer, number, number | null], number>(
      `INSERT INTO temp.${SET_VIEW} (${key}, ${value}, ${encoding}, ${expiresAt}) VALUES (?, ?, ?, ?) RETURNING ${metaVersion}`,
    )
    .pluck()
  /**
   * Writes the row under the next commit counter, in a transaction of its own; returns that counter. `all`, not
   * `get`: the implicit COMMIT runs in the step after the returned row, and `get` resets the statement before that
   * step, which commits without reporting a failure (a WAL write that fails would be acknowledged, then missing).
   */
  return (row: Omit<KvRow, 'version'>): number => statement.all(row.key, row.value, row.encoding, row.expiresAt)[0] as number
}

/** `PRAGMA data_version` of a connection: it changes whenever another connection commits (see read-cache.ts). */
export function prepareDataVersion(client: Database.Database): () => number {
  const statement = client.prepare<[], number>('PRAGMA data_version').pluck()
  return () => statement.get() as number
}
