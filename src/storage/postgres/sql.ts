/**
 * The SQL of the PostgreSQL storage. Reads are prepared statements with parameters, one per read (one snapshot
 * each). A commit's two round trips are each one text of several statements (the simple query protocol), its
 * keys and values written as literals: bytes in hex, numbers the library computed. A batch of statements is one
 * round trip on any connection and through any pooler, pipelined or not.
 */
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core'
import { createHash } from 'node:crypto'
import { META_ID } from '../format.js'
import type { KvRow } from '../store.js'
import type { PgQuery, PgResult } from './client.js'
import type { PgKvTables } from './schema.js'

/** A quoted identifier. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** A table's qualified name, from its schema (or the connection's `search_path` without one). */
export function tableName(table: PgTable): string {
  const { name, schema } = getTableConfig(table)
  return schema === undefined ? ident(name) : `${ident(schema)}.${ident(name)}`
}

/** Bytes as a literal (an escape string, right whatever `standard_conforming_strings` says). */
export const bytesLiteral = (bytes: Buffer): string => `E'\\\\x${bytes.toString('hex')}'`

/** An integer the library computed, or NULL. */
const numberLiteral = (n: number | null): string => (n === null ? 'NULL' : String(Math.trunc(n)))

/** A prepared statement, named after its text so that every connection prepares it once. */
function prepared(text: string): (values: unknown[]) => PgQuery {
  const name = `valkeyrie_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
  return (values) => ({ name, text, values })
}

/** A result row as a KvRow (int8 comes as a string, or as whatever a pool's own type parsers make of it). */
export const toRow = (r: Record<string, unknown>): KvRow => ({
  key: r.key as Buffer,
  value: r.value as Buffer,
  encoding: Number(r.encoding),
  version: Number(r.version),
  expiresAt: r.expires_at === null ? null : Number(r.expires_at),
})

/** Settings of one write transaction. */
export interface TransactionSettings {
  /** `synchronous_commit`: on ('full' durability) or off ('relaxed'). */
  synchronousCommit: 'on' | 'off'
  /** `lock_timeout` in ms: how long a commit waits for the write lock. */
  lockTimeout: number
  /** `idle_in_transaction_session_timeout` in ms. */
  idleTimeout: number
}

/** Marks the error of a blind commit whose guess of the counter was stale. */
const STALE_GUESS = ' counter moved'

/** Whether a blind commit failed because another writer had advanced the counter (nothing was written). */
export const isStaleGuess = (error: unknown): boolean =>
  // The message quotes the value it could not read, whatever the server's language (lc_messages) and its quotes.
  (error as { code?: unknown })?.code === '22P02' && String((error as Error).message).includes(STALE_GUESS)

/** The transaction's settings, as one statement. */
const settingsStatement = (settings: TransactionSettings): string =>
  `SELECT set_config('lock_timeout', '${numberLiteral(settings.lockTimeout)}', true), ` +
  `set_config('idle_in_transaction_session_timeout', '${numberLiteral(settings.idleTimeout)}', true), ` +
  `set_config('synchronous_commit', '${settings.synchronousCommit}', true)`

/**
 * The NOTIFY channel of one database's commits: named after its kv table (a digest, so any schema name fits the
 * 63-byte limit on identifiers).
 */
export const changeChannel = (kv: string): string => `valkeyrie_${createHash('sha256').update(kv).digest('hex').slice(0, 32)}`

/** Every statement of one database's tables. */
export function statementsFor(tables: PgKvTables) {
  const kv = tableName(tables.kv)
  const meta = tableName(tables.meta)
  const channel = changeChannel(kv)
  const columns = 'key, value, encoding, version, expires_at'
  const getRow = prepared(`SELECT ${columns} FROM ${kv} WHERE key = $1`)
  const getRows = prepared(`SELECT ${columns} FROM ${kv} WHERE key = ANY($1::bytea[])`)
  const rangeAsc = prepared(`SELECT ${columns} FROM ${kv} WHERE key >= $1 AND key < $2 ORDER BY key ASC LIMIT $3`)
  const rangeDesc = prepared(`SELECT ${columns} FROM ${kv} WHERE key >= $1 AND key < $2 ORDER BY key DESC LIMIT $3`)
  const purge = prepared(
    // SKIP LOCKED: a purge never waits for (or deadlocks with) a commit holding some of the rows.
    `DELETE FROM ${kv} WHERE key IN (SELECT key FROM ${kv} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) ` +
      'AND expires_at <= $1',
  )
  const upsertTail =
    ' ON CONFLICT (key) DO UPDATE SET value = excluded.value, encoding = excluded.encoding, ' +
    'version = excluded.version, expires_at = excluded.expires_at'
  return {
    getRow: (key: Buffer) => getRow([key]),
    getRows: (keys: readonly Buffer[]) => getRows([keys]),
    range: (start: Buffer, end: Buffer, limit: number, reverse: boolean) => (reverse ? rangeDesc : rangeAsc)([start, end, limit]),
    purge: (now: number, limit: number) => purge([now, limit]),
    readMeta: { text: `SELECT version, serializer, format_version FROM ${meta} WHERE id = ${META_ID}` } as PgQuery,
    createMeta: (serializer: string, formatVersion: number): PgQuery => ({
      text: `INSERT INTO ${meta} (id, version, serializer, format_version) VALUES (${META_ID}, 0, $1, $2) ON CONFLICT (id) DO NOTHING`,
      values: [serializer, formatVersion],
    }),
    writeVersion: (version: number): PgQuery => ({ text: `UPDATE ${meta} SET version = $1 WHERE id = ${META_ID}`, values: [version] }),
    /** Locks the write lock (the counter row) inside a transaction and reads the counter. */
    lockCounter: `SELECT version FROM ${meta} WHERE id = ${META_ID} FOR UPDATE`,
    upsert: (row: KvRow): PgQuery => ({
      text: `INSERT INTO ${kv} (${columns}) VALUES ($1, $2, $3, $4, $5)${upsertTail}`,
      values: [row.key, row.value, row.encoding, row.version, row.expiresAt],
    }),
    remove: (key: Buffer): PgQuery => ({ text: `DELETE FROM ${kv} WHERE key = $1`, values: [key] }),
    cleanup: (now: number): PgQuery => ({ text: `DELETE FROM ${kv} WHERE expires_at <= $1`, values: [now] }),
    /** The counts, sizes and metadata of `describe`, in one statement (one snapshot). */
    describe: (now: number): PgQuery => ({
      text:
        `SELECT (SELECT count(*) FROM ${kv}) AS rows, (SELECT count(*) FROM ${kv} WHERE expires_at <= $1) AS expired, ` +
        `pg_total_relation_size('${kv.replaceAll("'", "''")}'::regclass) + pg_total_relation_size('${meta.replaceAll("'", "''")}'::regclass) AS bytes, ` +
        `m.version, m.serializer, m.format_version FROM ${meta} m WHERE m.id = ${META_ID}`,
      values: [now],
    }),
    /** Drops the tables and the migrations journal beside them (`journal`, the journal's qualified name). */
    dropTables: (journal: string): string => `DROP TABLE IF EXISTS ${kv}, ${meta}, ${journal}`,
    /** The channel commits notify, for watch() in other clients. */
    channel,
    /** `LISTEN` to the channel. */
    listen: `LISTEN ${ident(channel)}`,
    /**
     * The statement a commit that writes runs before COMMIT: the server delivers the notification to every
     * listener only if (and once) the transaction commits.
     */
    notify: `SELECT pg_notify('${channel}', '')`,

    /**
     * The first round trip of a commit: begin, take the write lock (the counter row) and read the counter, then
     * read `keys`. The rows are read by a later statement than the lock, so under READ COMMITTED they are the
     * state after every commit that held the lock before.
     */
    begin(keys: readonly Buffer[], settings: TransactionSettings): string {
      const statements = [
        'BEGIN ISOLATION LEVEL READ COMMITTED',
        settingsStatement(settings),
        `SELECT version FROM ${meta} WHERE id = ${META_ID} FOR UPDATE`,
      ]
      if (keys.length > 0) statements.push(`SELECT ${columns} FROM ${kv} WHERE key IN (${keys.map(bytesLiteral).join(', ')})`)
      return statements.join(';\n')
    },

    /**
     * A commit group that reads nothing (sets and deletes alone), in one round trip, on the guess that the counter is
     * still `from` (this store wrote last): the UPDATE of the counter row takes the write lock, then sets the new
     * counter if the guess holds, and otherwise fails on a cast of the counter's value (not a constant, so only
     * evaluated then), which skips the writes after it and aborts the transaction (`isStaleGuess`).
     */
    blindCommit(
      rows: readonly KvRow[],
      removed: readonly Buffer[],
      from: number,
      to: number,
      settings: TransactionSettings,
      notify?: string,
    ): string {
      return [
        'BEGIN ISOLATION LEVEL READ COMMITTED',
        settingsStatement(settings),
        `UPDATE ${meta} SET version = CASE WHEN version = ${numberLiteral(from)} THEN ${numberLiteral(to)} ` +
          `ELSE (version::text || '${STALE_GUESS}')::bigint END WHERE id = ${META_ID}`,
        this.commit(rows, removed, undefined, notify),
      ].join(';\n')
    },

    /**
     * The second round trip: the writes (one per key, in final state), `notify` (a statement, see `notify` above),
     * the counter and COMMIT.
     */
    commit(rows: readonly KvRow[], removed: readonly Buffer[], version: number | undefined, notify?: string): string {
      const statements: string[] = []
      if (rows.length > 0) {
        const values = rows.map(
          (r) =>
            `(${bytesLiteral(r.key)}, ${bytesLiteral(r.value)}, ${numberLiteral(r.encoding)}, ` +
            `${numberLiteral(r.version)}, ${numberLiteral(r.expiresAt)})`,
        )
        statements.push(`INSERT INTO ${kv} (${columns}) VALUES ${values.join(', ')}${upsertTail}`)
      }
      if (removed.length > 0) statements.push(`DELETE FROM ${kv} WHERE key IN (${removed.map(bytesLiteral).join(', ')})`)
      if (notify !== undefined) statements.push(notify)
      if (version !== undefined) statements.push(`UPDATE ${meta} SET version = ${numberLiteral(version)} WHERE id = ${META_ID}`)
      statements.push('COMMIT')
      return statements.join(';\n')
    },
  }
}

export type PgStatements = ReturnType<typeof statementsFor>

/** The results of a text of several statements (node-postgres answers one statement with a single result). */
export const resultsOf = (answer: PgResult | PgResult[]): PgResult[] => (Array.isArray(answer) ? answer : [answer])
