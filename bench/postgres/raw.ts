/**
 * The raw PostgreSQL baseline: the same store written directly on node-postgres, as lean as it can honestly be.
 *
 * It keeps Valkeyrie's table layout (`kv`: bytea key, value, smallint encoding, bigint version and expires_at, the
 * same index on expires_at; a one-row `kv_meta` holding the commit counter), encodes keys with Valkeyrie's own
 * codec and values with `node:v8`, and keeps the counter-row protocol (lock the counter row, read, write, bump,
 * commit, in one READ COMMITTED transaction whose reads come after the lock). It uses named prepared statements on
 * two connections: commits on one in pg's pipeline mode, so every commit costs as few round trips as the client
 * can make; single-statement reads on one in pg's default mode (measured faster for one statement at a time:
 * about 0.12–0.18 ms per get against 0.21–0.34 ms pipelined, on loopback):
 *
 *   - set / setMany: ONE round trip (BEGIN; bump the counter `RETURNING` it, which locks the row; upsert taking
 *     the new version from kv_meta; COMMIT, all pipelined);
 *   - checkAndSet: ONE round trip (BEGIN; lock the counter; one statement that checks the versionstamp, bumps the
 *     counter only if the check passed and writes only then; COMMIT);
 *   - sum: TWO round trips (lock + bump and read the key; then the upsert + COMMIT: the u64 arithmetic is done in
 *     JS, as Valkeyrie does it), the lock held across one;
 *   - get, getMany (one statement, one snapshot) and every batch of a listing: one round trip each.
 *
 * No validation beyond the size limits, no group commit, no Drizzle, no pool.
 */
import { deserialize } from 'node:v8'
import pg from 'pg'
import type { KvKey } from '../../src/types.js'
import { keyCodec } from '../package-under-test.js'

const { decodeKey, encodeKey } = keyCodec

// The SQLite baseline's formats and limits, shared (the same table layout, values and limits).
import { type Durability, keyBytes, LIST_BATCH, type RawEntry, SERIALIZED, TWO_64, U64, valueBytes } from '../raw.js'

export type { Durability, RawEntry } from '../raw.js'

interface Row {
  key?: Buffer
  value: Buffer
  encoding: number
  version: string
  expires_at: string | null
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** The tables, as Valkeyrie's migration creates them (kv_meta reduced to the counter), in `schema`. */
export function rawSchema(schema: string): string {
  const s = quote(schema)
  return `
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.kv (
      key bytea PRIMARY KEY NOT NULL,
      value bytea NOT NULL,
      encoding smallint NOT NULL,
      version bigint NOT NULL,
      expires_at bigint
    );
    CREATE INDEX kv_expires_at_idx ON ${s}.kv USING btree (expires_at);
    CREATE TABLE ${s}.kv_meta (id smallint PRIMARY KEY NOT NULL, version bigint DEFAULT 0 NOT NULL);
    INSERT INTO ${s}.kv_meta (id, version) VALUES (1, 0);
  `
}

const versionstamp = (version: number | string): string => Number(version).toString(16).padStart(20, '0')
const live = (row: Row, now: number): boolean => row.expires_at === null || Number(row.expires_at) > now


type Query = { name: string; text: string; values?: unknown[] }

export class RawPgKv {
  /** Commits: pipeline mode. */
  readonly #client: pg.Client
  /** Single-statement reads: default mode. */
  readonly #reader: pg.Client
  readonly #q: ReturnType<typeof statements>
  /** Client round trips made so far (a pipelined flight counts once). */
  roundTrips = 0

  private constructor(client: pg.Client, reader: pg.Client, schema: string) {
    this.#client = client
    this.#reader = reader
    this.#q = statements(schema)
  }

  static async open(url: string, schema: string, durability: Durability): Promise<RawPgKv> {
    const client = new pg.Client({ connectionString: url, pipeline: true, application_name: 'valkeyrie-bench-raw' } as pg.ClientConfig)
    await client.connect()
    // Session settings, once: the durability, as Valkeyrie's 'relaxed' (synchronous_commit off) or 'full'.
    await client.query(`SET synchronous_commit = ${durability === 'full' ? 'on' : 'off'}`)
    const reader = new pg.Client({ connectionString: url, application_name: 'valkeyrie-bench-raw' })
    await reader.connect()
    return new RawPgKv(client, reader, schema)
  }

  /** Sends the queries together (one flight) and waits for all of them; rolls back if one failed. */
  async #flight(queries: (Query | string)[]): Promise<pg.QueryResult[]> {
    this.roundTrips++
    const settled = await Promise.allSettled(queries.map((q) => this.#client.query(q as pg.QueryConfig)))
    const failed = settled.find((s) => s.status === 'rejected')
    if (failed) {
      await this.#client.query('ROLLBACK').catch(() => {})
      throw (failed as PromiseRejectedResult).reason
    }
    return settled.map((s) => (s as PromiseFulfilledResult<pg.QueryResult>).value)
  }

  /** One read statement on the reading connection. */
  async #read(query: Query): Promise<pg.QueryResult> {
    this.roundTrips++
    return this.#reader.query(query)
  }

  #decode(row: Row): unknown {
    return row.encoding === U64 ? row.value.readBigUInt64LE(0) : deserialize(row.value)
  }

  #entry(key: KvKey, row: Row | undefined, now: number): RawEntry {
    if (!row || !live(row, now)) return { key, value: null, versionstamp: null }
    return { key, value: this.#decode(row), versionstamp: versionstamp(row.version) }
  }

  async get(key: KvKey): Promise<RawEntry> {
    const result = await this.#read(this.#q.read([keyBytes(key)]))
    return this.#entry(key, result!.rows[0] as Row | undefined, Date.now())
  }

  /** Reads the keys in one statement (one snapshot), as Valkeyrie does. */
  async getMany(keys: readonly KvKey[]): Promise<RawEntry[]> {
    const encoded = keys.map(keyBytes)
    const result = await this.#read(this.#q.readMany([encoded]))
    const found = new Map<string, Row>()
    for (const row of result!.rows as Row[]) found.set(row.key!.toString('latin1'), row)
    const now = Date.now()
    return keys.map((key, i) => this.#entry(key, found.get(encoded[i]!.toString('latin1')), now))
  }

  /** A blind write in one round trip: the counter bump (which takes the row lock) precedes the upsert. */
  async set(key: KvKey, value: unknown): Promise<string> {
    const [, bump] = await this.#flight(['BEGIN', this.#q.bump(), this.#q.upsertAtCounter([keyBytes(key), valueBytes(value), SERIALIZED]), 'COMMIT'])
    return versionstamp(bump!.rows[0].version)
  }

  /** One commit writing every entry, in one round trip. */
  async setMany(entries: readonly (readonly [KvKey, unknown])[]): Promise<string> {
    const keys = entries.map(([key]) => keyBytes(key))
    const values = entries.map(([, value]) => valueBytes(value))
    const [, bump] = await this.#flight(['BEGIN', this.#q.bump(), this.#q.upsertManyAtCounter([keys, values]), 'COMMIT'])
    return versionstamp(bump!.rows[0].version)
  }

  /** Atomic sum modulo 2^64 on an 8-byte little-endian counter (a missing key takes the operand): two round trips. */
  async sum(key: KvKey, operand: bigint): Promise<string> {
    const k = keyBytes(key)
    const [, bump, read] = await this.#flight(['BEGIN', this.#q.bump(), this.#q.read([k])])
    const row = read!.rows[0] as Row | undefined
    const current = row && live(row, Date.now()) ? row : undefined
    if (current && current.encoding !== U64) {
      await this.#client.query('ROLLBACK')
      throw new TypeError('sum needs a u64')
    }
    const next = current ? (current.value.readBigUInt64LE(0) + operand) % TWO_64 : operand
    const bytes = Buffer.allocUnsafe(8)
    bytes.writeBigUInt64LE(next)
    const version = bump!.rows[0].version as string
    await this.#flight([this.#q.upsert([k, bytes, U64, version]), 'COMMIT'])
    return versionstamp(version)
  }

  /** Sets `key` only if its versionstamp is still `expected` (null: absent), in one round trip; null when the check fails. */
  async checkAndSet(key: KvKey, expected: string | null, value: unknown): Promise<string | null> {
    const expectedVersion = expected === null ? null : String(Number.parseInt(expected, 16))
    const [, , written] = await this.#flight([
      'BEGIN',
      this.#q.lock(),
      this.#q.checkedUpsert([keyBytes(key), valueBytes(value), SERIALIZED, expectedVersion, Date.now()]),
      'COMMIT',
    ])
    // A failed check writes nothing and consumes no versionstamp, as in Valkeyrie.
    const row = written!.rows[0] as { version: string } | undefined
    return row ? versionstamp(row.version) : null
  }

  /** The strict descendants of `prefix`, in key order, read LIST_BATCH rows per statement. */
  async *list(prefix: KvKey): AsyncGenerator<RawEntry, void, undefined> {
    const base = encodeKey(prefix, { allowEmpty: true })
    let start = Buffer.concat([base, Buffer.of(0x00)])
    const end = Buffer.concat([base, Buffer.of(0xff)])
    for (;;) {
      const result = await this.#read(this.#q.range([start, end, LIST_BATCH]))
      const rows = result!.rows as Row[]
      const now = Date.now()
      for (const row of rows) {
        if (!live(row, now)) continue
        yield { key: decodeKey(row.key!), value: this.#decode(row), versionstamp: versionstamp(row.version) }
      }
      const last = rows.at(-1)
      if (rows.length < LIST_BATCH || !last) return
      start = Buffer.concat([last.key!, Buffer.of(0x00)])
    }
  }

  async close(): Promise<void> {
    await this.#client.end()
    await this.#reader.end()
  }
}

/** The prepared statements, named per schema. */
function statements(schema: string) {
  const kv = `${quote(schema)}.kv`
  const meta = `${quote(schema)}.kv_meta`
  const upsertTail =
    ' ON CONFLICT (key) DO UPDATE SET value = excluded.value, encoding = excluded.encoding, ' +
    'version = excluded.version, expires_at = excluded.expires_at'
  const named = (name: string, text: string) => (values: unknown[] = []): Query => ({ name: `raw_${name}`, text, values })
  return {
    read: named('read', `SELECT value, encoding, version, expires_at FROM ${kv} WHERE key = $1`),
    readMany: named('read_many', `SELECT key, value, encoding, version, expires_at FROM ${kv} WHERE key = ANY($1::bytea[])`),
    range: named(
      'range',
      `SELECT key, value, encoding, version, expires_at FROM ${kv} WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3`,
    ),
    lock: named('lock', `SELECT version FROM ${meta} WHERE id = 1 FOR UPDATE`),
    bump: named('bump', `UPDATE ${meta} SET version = version + 1 WHERE id = 1 RETURNING version`),
    upsert: named('upsert', `INSERT INTO ${kv} (key, value, encoding, version, expires_at) VALUES ($1, $2, $3, $4, NULL)${upsertTail}`),
    upsertAtCounter: named(
      'upsert_at_counter',
      `INSERT INTO ${kv} (key, value, encoding, version, expires_at) SELECT $1, $2, $3, version, NULL FROM ${meta} WHERE id = 1${upsertTail}`,
    ),
    upsertManyAtCounter: named(
      'upsert_many_at_counter',
      `INSERT INTO ${kv} (key, value, encoding, version, expires_at) ` +
        `SELECT k, v, ${SERIALIZED}, m.version, NULL FROM unnest($1::bytea[], $2::bytea[]) AS u(k, v), ${meta} m WHERE m.id = 1${upsertTail}`,
    ),
    checkedUpsert: named(
      'checked_upsert',
      `WITH current AS (SELECT version FROM ${kv} WHERE key = $1 AND (expires_at IS NULL OR expires_at > $5)), ` +
        `bump AS (UPDATE ${meta} SET version = version + 1 WHERE id = 1 ` +
        `AND (SELECT version FROM current) IS NOT DISTINCT FROM $4::bigint RETURNING version) ` +
        `INSERT INTO ${kv} (key, value, encoding, version, expires_at) SELECT $1, $2, $3, version, NULL FROM bump` +
        `${upsertTail} RETURNING version`,
    ),
  }
}
