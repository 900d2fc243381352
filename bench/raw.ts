/**
 * The raw baseline: the same store written directly on better-sqlite3, as lean as it can honestly be.
 *
 * It keeps Valkeyrie's row format (`kv`: blob key, value, encoding, version, expires_at, with the same index on
 * expires_at; a one-row meta table holding the commit counter), encodes keys with Valkeyrie's own codec and values
 * with `node:v8`, and uses prepared statements only. A plain set is one statement, in SQLite's own transaction: an
 * INSERT into a view whose INSTEAD OF trigger advances the counter and upserts the row under it (no trigger on `kv`
 * itself, so the other writes pay nothing for it). Every other write commit: BEGIN IMMEDIATE, read the counter,
 * write the rows, write the counter, COMMIT. Reads decode what they return (key, value, versionstamp) and skip
 * expired rows.
 * It does no more than that: no validation beyond the size limits, no group commit, no Drizzle, synchronous calls.
 */
import { deserialize, serialize } from 'node:v8'
import Database from 'better-sqlite3'
import { keyCodec } from './package-under-test.js'

const { decodeKey, encodeKey } = keyCodec
import type { KvKey, KvKeyPart } from '../src/types.js'

export type Durability = 'full' | 'relaxed'

/** `encoding` column values, as in src/value.ts. */
export const SERIALIZED = 1
export const U64 = 2
export const MAX_KEY_BYTES = 2048
export const MAX_VALUE_BYTES = 65_536
export const TWO_64 = 1n << 64n
/** Rows read per statement while listing (Valkeyrie's default batchSize). */
export const LIST_BATCH = 500

export interface RawEntry {
  key: KvKeyPart[] | KvKey
  value: unknown
  versionstamp: string | null
}

interface Row {
  value: Buffer
  encoding: number
  version: number
  expires_at: number | null
}

interface RangeRow extends Row {
  key: Buffer
}

/** The tables, as Valkeyrie's migration creates them (kv_meta reduced to the counter). */
export const RAW_SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    encoding INTEGER NOT NULL,
    version INTEGER NOT NULL,
    expires_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS kv_expires_at_idx ON kv (expires_at);
  CREATE TABLE IF NOT EXISTS kv_meta (id INTEGER PRIMARY KEY NOT NULL, version INTEGER NOT NULL DEFAULT 0);
  INSERT OR IGNORE INTO kv_meta (id, version) VALUES (1, 0);
  CREATE VIEW IF NOT EXISTS kv_set AS SELECT key, value, encoding, expires_at FROM kv;
  CREATE TRIGGER IF NOT EXISTS kv_set_insert INSTEAD OF INSERT ON kv_set BEGIN
    UPDATE kv_meta SET version = version + 1 WHERE id = 1;
    INSERT INTO kv (key, value, encoding, version, expires_at)
      VALUES (NEW.key, NEW.value, NEW.encoding, (SELECT version FROM kv_meta WHERE id = 1), NEW.expires_at)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, encoding = excluded.encoding,
        version = excluded.version, expires_at = excluded.expires_at;
  END;
`

const versionstamp = (version: number): string => version.toString(16).padStart(20, '0')
const live = (row: Row, now: number): boolean => row.expires_at === null || row.expires_at > now

export function keyBytes(key: KvKey): Buffer {
  const bytes = encodeKey(key)
  if (bytes.length > MAX_KEY_BYTES) throw new RangeError('key too large')
  return bytes
}

export function valueBytes(value: unknown): Buffer {
  const bytes = serialize(value)
  if (bytes.length > MAX_VALUE_BYTES) throw new RangeError('value too large')
  return bytes
}

export class RawKv {
  readonly #db: Database.Database
  readonly #begin: Database.Statement
  readonly #beginRead: Database.Statement
  readonly #commit: Database.Statement
  readonly #rollback: Database.Statement
  readonly #readCounter: Database.Statement<[], number>
  readonly #writeCounter: Database.Statement<[number]>
  readonly #read: Database.Statement<[Buffer], Row>
  readonly #upsert: Database.Statement<[Buffer, Buffer, number, number, number | null]>
  readonly #range: Database.Statement<[Buffer, Buffer, number], RangeRow>
  readonly #setOne: Database.Statement<[Buffer, Buffer], number>

  private constructor(db: Database.Database) {
    this.#db = db
    this.#begin = db.prepare('BEGIN IMMEDIATE')
    this.#beginRead = db.prepare('BEGIN')
    this.#commit = db.prepare('COMMIT')
    this.#rollback = db.prepare('ROLLBACK')
    this.#readCounter = db.prepare<[], number>('SELECT version FROM kv_meta WHERE id = 1').pluck()
    this.#writeCounter = db.prepare<[number]>('UPDATE kv_meta SET version = ? WHERE id = 1')
    this.#read = db.prepare<[Buffer], Row>('SELECT value, encoding, version, expires_at FROM kv WHERE key = ?')
    this.#upsert = db.prepare<[Buffer, Buffer, number, number, number | null]>(
      `INSERT INTO kv (key, value, encoding, version, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, encoding = excluded.encoding,
         version = excluded.version, expires_at = excluded.expires_at`,
    )
    // RETURNING runs after the INSTEAD OF trigger, so it reads the counter the trigger advanced.
    this.#setOne = db
      .prepare<[Buffer, Buffer], number>(
        `INSERT INTO kv_set (key, value, encoding, expires_at) VALUES (?, ?, ${SERIALIZED}, NULL)
         RETURNING (SELECT version FROM kv_meta WHERE id = 1)`,
      )
      .pluck()
    this.#range = db.prepare<[Buffer, Buffer, number], RangeRow>(
      'SELECT key, value, encoding, version, expires_at FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
    )
  }

  /** Opens (creating when absent) a file with the same pragmas as Valkeyrie: WAL, synchronous, busy timeout. */
  static open(path: string, durability: Durability): RawKv {
    const db = new Database(path)
    db.pragma('busy_timeout = 5000')
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
    db.exec(RAW_SCHEMA)
    return new RawKv(db)
  }

  /** Runs `fn` between BEGIN IMMEDIATE and COMMIT (ROLLBACK if it throws). */
  #transaction<T>(fn: () => T): T {
    this.#begin.run()
    try {
      const result = fn()
      this.#commit.run()
      return result
    } catch (error) {
      if (this.#db.inTransaction) this.#rollback.run()
      throw error
    }
  }

  /** Hands out the next commit counter and persists it (inside the write transaction). */
  #nextVersion(): number {
    const version = this.#readCounter.get()! + 1
    this.#writeCounter.run(version)
    return version
  }

  #entry(key: KvKey, row: Row | undefined, now: number): RawEntry {
    if (!row || !live(row, now)) return { key, value: null, versionstamp: null }
    return { key, value: this.#decode(row), versionstamp: versionstamp(row.version) }
  }

  #decode(row: Row): unknown {
    return row.encoding === U64 ? row.value.readBigUInt64LE(0) : deserialize(row.value)
  }

  get(key: KvKey): RawEntry {
    return this.#entry(key, this.#read.get(keyBytes(key)), Date.now())
  }

  /** Reads the keys in one snapshot (a deferred read transaction), as Valkeyrie does. */
  getMany(keys: readonly KvKey[]): RawEntry[] {
    const encoded = keys.map(keyBytes)
    this.#beginRead.run()
    let rows: (Row | undefined)[]
    try {
      rows = encoded.map((bytes) => this.#read.get(bytes))
      this.#commit.run()
    } catch (error) {
      if (this.#db.inTransaction) this.#rollback.run()
      throw error
    }
    const now = Date.now()
    return keys.map((key, i) => this.#entry(key, rows[i], now))
  }

  /**
   * One statement: SQLite's implicit transaction holds the counter's advance and the row's write together. `all`,
   * not `get`: the implicit COMMIT runs in the step after the returned row, which `get` never takes (it resets the
   * statement, committing without reporting a failure).
   */
  set(key: KvKey, value: unknown): string {
    return versionstamp(this.#setOne.all(keyBytes(key), valueBytes(value))[0]!)
  }

  /** One commit writing every entry. */
  setMany(entries: readonly (readonly [KvKey, unknown])[]): string {
    const rows = entries.map(([key, value]) => [keyBytes(key), valueBytes(value)] as const)
    return this.#transaction(() => {
      const version = this.#nextVersion()
      for (const [k, v] of rows) this.#upsert.run(k, v, SERIALIZED, version, null)
      return versionstamp(version)
    })
  }

  /** Atomic sum modulo 2^64 on an 8-byte little-endian counter (a missing key takes the operand). */
  sum(key: KvKey, operand: bigint): string {
    const k = keyBytes(key)
    return this.#transaction(() => {
      const row = this.#read.get(k)
      const current = row && live(row, Date.now()) ? row : undefined
      if (current && current.encoding !== U64) throw new TypeError('sum needs a u64')
      const next = current ? (current.value.readBigUInt64LE(0) + operand) % TWO_64 : operand
      const bytes = Buffer.allocUnsafe(8)
      bytes.writeBigUInt64LE(next)
      const version = this.#nextVersion()
      this.#upsert.run(k, bytes, U64, version, null)
      return versionstamp(version)
    })
  }

  /** Sets `key` only if its versionstamp is still `expected` (null: absent); null when the check fails. */
  checkAndSet(key: KvKey, expected: string | null, value: unknown): string | null {
    const k = keyBytes(key)
    const v = valueBytes(value)
    return this.#transaction(() => {
      const row = this.#read.get(k)
      const current = row && live(row, Date.now()) ? versionstamp(row.version) : null
      // A failed check writes nothing and consumes no versionstamp, as in Valkeyrie.
      if (current !== expected) return null
      const version = this.#nextVersion()
      this.#upsert.run(k, v, SERIALIZED, version, null)
      return versionstamp(version)
    })
  }

  /** The strict descendants of `prefix`, in key order, read LIST_BATCH rows per statement. */
  *list(prefix: KvKey): Generator<RawEntry, void, undefined> {
    const base = encodeKey(prefix, { allowEmpty: true })
    let start = Buffer.concat([base, Buffer.of(0x00)])
    const end = Buffer.concat([base, Buffer.of(0xff)])
    for (;;) {
      const rows = this.#range.all(start, end, LIST_BATCH)
      const now = Date.now()
      for (const row of rows) {
        if (!live(row, now)) continue
        yield { key: decodeKey(row.key), value: this.#decode(row), versionstamp: versionstamp(row.version) }
      }
      const last = rows.at(-1)
      if (rows.length < LIST_BATCH || !last) return
      start = Buffer.concat([last.key, Buffer.of(0x00)])
    }
  }

  close(): void {
    this.#db.close()
  }
}
