/**
 * The SQL of the PostgreSQL storage. Reads are prepared statements with parameters, one per read (one snapshot
 * each). A commit is one or two flights of statements (see flights.ts: pipelined prepared statements on a
 * connection of the store's own, or one text of several statements with the parameters written as literals,
 * bytes in hex and numbers the library computed); either way each flight is one round trip. Many rows are
 * written by one statement over arrays (`unnest`), one row by a statement of its own.
 */
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core'
import { createHash } from 'node:crypto'
import { META_ID } from '../format.js'
import type { KvRow, QueueMessage } from '../store.js'
import { keysToText, scheduleToText } from '../../queue/message.js'
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

/** A text the library made (JSON of hex strings and numbers: no backslash), as a literal. */

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

/** The transaction's settings, local to it: for a connection shared with other work. */
const settingsStatement = (settings: TransactionSettings): PgQuery => ({
  text:
    `SELECT set_config('lock_timeout', '${numberLiteral(settings.lockTimeout)}', true), ` +
    `set_config('idle_in_transaction_session_timeout', '${numberLiteral(settings.idleTimeout)}', true), ` +
    `set_config('synchronous_commit', '${settings.synchronousCommit}', true)`,
})

const BEGIN: PgQuery = { text: 'BEGIN ISOLATION LEVEL READ COMMITTED' }
const COMMIT: PgQuery = { text: 'COMMIT' }

/** A write transaction's first statements: BEGIN, and its settings unless its connection's session has them. */
const opening = (settings: TransactionSettings | undefined): PgQuery[] =>
  settings === undefined ? [BEGIN] : [BEGIN, settingsStatement(settings)]

/**
 * A statement another feature adds to a commit's transaction, sent after its writes and before COMMIT: a text, or
 * a text with `$1`, `$2`… parameters and their values (byte strings, numbers, bigints, strings, null, or arrays of
 * them, cast in the text where the type matters, e.g. `$1::bytea[]`). `$n` must not appear inside quotes.
 */
export type CommitStatement = string | { text: string; values: unknown[] }

/** A value as an SQL literal, for the text flights (see `CommitStatement` for what it takes). */
export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `${bytesLiteral(Buffer.from(value as Uint8Array))}::bytea`
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`no SQL literal for ${value}`)
    return String(value)
  }
  if (typeof value === 'bigint') return String(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'string') return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
  if (Array.isArray(value)) return value.length === 0 ? `'{}'` : `ARRAY[${value.map(literal).join(', ')}]`
  throw new TypeError(`no SQL literal for a ${typeof value}`)
}

/**
 * The NOTIFY channel of one database's commits: named after its kv table (a digest, so any schema name fits the
 * 63-byte limit on identifiers).
 */
export const changeChannel = (kv: string): string => `valkeyrie_${createHash('sha256').update(kv).digest('hex').slice(0, 32)}`

/** Every statement of one database's tables. */
export function statementsFor(tables: PgKvTables) {
  const kv = tableName(tables.kv)
  const meta = tableName(tables.meta)
  const queue = tableName(tables.queue)
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
  const lockCounter = prepared(`SELECT version FROM ${meta} WHERE id = ${META_ID} FOR UPDATE`)
  // Appended to the statement that advances the counter: the server delivers it to every listener once, on commit.
  const notifying = ` RETURNING pg_notify('${channel}', '')`
  // What a one-flight commit's guess needs besides the counter: the rows it read ($3 keys, $4 versions; NULL: absent)
  // still have the versions guessed.
  const rowsHold = {
    none: '',
    one: ` AND (SELECT version FROM ${kv} WHERE key = $3) IS NOT DISTINCT FROM $4::int8`,
    many:
      ` AND NOT EXISTS (SELECT FROM unnest($3::bytea[], $4::int8[]) AS g(key, version) LEFT JOIN ${kv} k ` +
      'ON k.key = g.key WHERE k.version IS DISTINCT FROM g.version)',
  }
  const guardedBumps = new Map<string, (values: unknown[]) => PgQuery>()
  const guardedBump = (reads: keyof typeof rowsHold, notify: boolean): ((values: unknown[]) => PgQuery) => {
    const id = `${reads} ${notify}`
    let statement = guardedBumps.get(id)
    if (statement === undefined) {
      statement = prepared(
        `UPDATE ${meta} SET version = CASE WHEN version = $1::int8${rowsHold[reads]} THEN $2::int8 ` +
          `ELSE (version::text || '${STALE_GUESS}')::int8 END WHERE id = ${META_ID}${notify ? notifying : ''}`,
      )
      guardedBumps.set(id, statement)
    }
    return statement
  }
  const upsertMany = prepared(
    `INSERT INTO ${kv} (${columns}) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int2[], $4::int8[], $5::int8[])${upsertTail}`,
  )
  const upsertOne = prepared(`INSERT INTO ${kv} (${columns}) VALUES ($1, $2, $3::int2, $4::int8, $5::int8)${upsertTail}`)
  const removeOne = prepared(`DELETE FROM ${kv} WHERE key = $1`)
  const removeMany = prepared(`DELETE FROM ${kv} WHERE key = ANY($1::bytea[])`)
  const setCounter = prepared(`UPDATE ${meta} SET version = $1::int8 WHERE id = ${META_ID}`)
  const setCounterNotifying = prepared(`UPDATE ${meta} SET version = $1::int8 WHERE id = ${META_ID}${notifying}`)
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
    dropTables: (journal: string): string => `DROP TABLE IF EXISTS ${kv}, ${meta}, ${queue}, ${journal}`,

    /** The statement a commit that enqueues adds to its transaction (see `CommitStatement`): the messages, in order. */
    enqueue: (messages: readonly QueueMessage[]): CommitStatement => ({
      text:
        `INSERT INTO ${queue} (value, encoding, ready_at, attempts, keys_if_undelivered, backoff_schedule) ` +
        'SELECT value, encoding, ready_at, 0, keys, schedule FROM unnest($1::bytea[], $2::smallint[], $3::bigint[], ' +
        '$4::text[], $5::text[]) WITH ORDINALITY AS m(value, encoding, ready_at, keys, schedule, n) ORDER BY n',
      values: [
        messages.map((m) => m.value),
        messages.map((m) => m.encoding),
        messages.map((m) => m.readyAt),
        messages.map((m) => keysToText(m.keysIfUndelivered)),
        messages.map((m) => scheduleToText(m.backoffSchedule)),
      ],
    }),
    /** The channel commits notify, for watch() in other clients. */
    channel,
    /** `LISTEN` to the channel. */
    listen: `LISTEN ${ident(channel)}`,

    /**
     * The first flight of a commit: begin, take the write lock (the counter row) and read the counter, then read
     * `keys`. The rows are read by a later statement than the lock, so under READ COMMITTED they are the state
     * after every commit that held the lock before. The counter's result is the one before last, the rows' the last.
     */
    begin(keys: readonly Buffer[], settings: TransactionSettings | undefined): PgQuery[] {
      return [...opening(settings), lockCounter([]), getRows([keys])]
    },

    /**
     * A commit group in one flight, on the guess that the counter is still `from` (this store wrote last): the UPDATE
     * of the counter row takes the write lock, then sets the new counter if the guess holds, and otherwise fails on a
     * cast of the counter's value (not a constant, so only evaluated then), which skips the writes after it and
     * aborts the transaction (`isStaleGuess`). A group that read rows it guessed (remembered-rows.ts) passes them as
     * `guessed`, and the same UPDATE checks that each key still has its guessed version (null: absent). That check
     * reads with the statement's snapshot, taken before the lock: it is the current state whenever the counter is
     * still `from`, since every commit since the snapshot would have moved the counter. `notify`: the commit
     * notifies the other clients (see `commit`).
     */
    oneFlightCommit(
      guessed: { keys: readonly Buffer[]; versions: readonly (number | null)[] },
      rows: readonly KvRow[],
      removed: readonly Buffer[],
      range: { from: number; to: number },
      settings: TransactionSettings | undefined,
      extras: readonly CommitStatement[],
      notify: boolean,
    ): PgQuery[] {
      const { keys, versions } = guessed
      const bump =
        keys.length === 0
          ? guardedBump('none', notify)([range.from, range.to])
          : keys.length === 1
            ? guardedBump('one', notify)([range.from, range.to, keys[0], versions[0]])
            : guardedBump('many', notify)([range.from, range.to, keys, versions])
      return [...opening(settings), bump, ...this.commit(rows, removed, undefined, extras, false)]
    },

    /**
     * The last flight: the writes (one per key, in final state), the counter, then `extras` (statements of other
     * features that belong to the same transaction), and COMMIT. `notify`: the statement that writes the counter
     * also sends the notification other clients' watch() and queue listeners wait for, which the server delivers
     * only if (and once) the transaction commits. A group that writes rows or enqueues has a `version`: every
     * commit that writes takes the next counter.
     */
    commit(
      rows: readonly KvRow[],
      removed: readonly Buffer[],
      version: number | undefined,
      extras: readonly CommitStatement[],
      notify: boolean,
    ): PgQuery[] {
      const statements: PgQuery[] = []
      const [only] = rows
      if (rows.length === 1 && only !== undefined) {
        statements.push(upsertOne([only.key, only.value, only.encoding, only.version, only.expiresAt]))
      } else if (rows.length > 1) {
        statements.push(
          upsertMany([
            rows.map((r) => r.key),
            rows.map((r) => r.value),
            rows.map((r) => r.encoding),
            rows.map((r) => r.version),
            rows.map((r) => r.expiresAt),
          ]),
        )
      }
      if (removed.length === 1) statements.push(removeOne(removed as Buffer[]))
      else if (removed.length > 1) statements.push(removeMany([removed]))
      if (version !== undefined) statements.push((notify ? setCounterNotifying : setCounter)([version]))
      for (const extra of extras) statements.push(typeof extra === 'string' ? { text: extra } : extra)
      statements.push(COMMIT)
      return statements
    },
  }
}

export type PgStatements = ReturnType<typeof statementsFor>

/** The results of a text of several statements (node-postgres answers one statement with a single result). */
export const resultsOf = (answer: PgResult | PgResult[]): PgResult[] => (Array.isArray(answer) ? answer : [answer])
