/**
 * The default store: SQLite through better-sqlite3, every query a prepared Drizzle statement. It implements the
 * core's store contract synchronously (the fast path), and the public driver contract too, so the built-in
 * storage is one driver among others.
 */
import type { DriverEntry, KvDriver } from '../driver.js'
import type Database from 'better-sqlite3'
import { CommitUnknownResultError, OpenError } from '../errors.js'
import { EXPIRED_ROWS_PER_TRANSACTION } from '../limits.js'
import type { KvRow, RangeQuery, Storage, WriteTransaction } from '../store.js'
import { fromVersionstamp, toVersionstamp } from '../versionstamp.js'
import { FORMAT_VERSION, type OpenedDatabase } from './database.js'
import type { KvQueries } from './queries.js'


export class SqliteStorage implements Storage, KvDriver {
  readonly #opened: OpenedDatabase
  readonly #q: KvQueries
  readonly #readMany: (keys: readonly Buffer[]) => (KvRow | undefined)[]
  readonly #transact: <T>(fn: (tx: WriteTransaction) => T) => T

  constructor(opened: OpenedDatabase) {
    const { client, queries } = opened
    this.#opened = opened
    this.#q = queries
    // A deferred transaction: all reads see one snapshot.
    this.#readMany = client.transaction((keys: readonly Buffer[]) => keys.map(queries.readRow))
    // One transaction view, reused: the commit counter is read at most once per transaction and written at its end.
    let version: number | undefined
    const tx: WriteTransaction = {
      read: queries.readRow,
      write: queries.writeRow,
      remove: queries.removeRow,
      removeExpired: queries.removeExpiredRow,
      nextVersion: () => (version = (version ?? queries.readVersion()) + 1),
    }
    // Set once the transaction's own statements have all run: a failure after that came from the COMMIT itself.
    let committing = false
    const immediate = client.transaction(<T>(fn: (tx: WriteTransaction) => T): T => {
      version = undefined
      const result = fn(tx)
      if (version !== undefined) queries.writeVersion(version)
      committing = true
      return result
    }).immediate as <T>(fn: (tx: WriteTransaction) => T) => T
    this.#transact = <T>(fn: (tx: WriteTransaction) => T): T => {
      committing = false
      try {
        return immediate(fn)
      } catch (error) {
        if (committing) throw settleFailedCommit(client, error)
        throw error
      }
    }
  }

  /** Records the serializer's name in a new database, or refuses one written with another serializer. */
  checkSerializer(name: string): void {
    const { client, shownPath } = this.#opened
    let meta
    try {
      meta = client
        .transaction(() => {
          this.#q.createMeta.run({ serializer: name, formatVersion: FORMAT_VERSION })
          return this.#q.readMeta.get()
        })
        .immediate()
    } catch (error) {
      // An I/O error or a full disk while recording the metadata row of a new file.
      throw new OpenError(shownPath, (error as Error).message, { cause: error })
    }
    if (!meta) throw new OpenError(shownPath, 'its metadata row is missing')
    if (meta.formatVersion !== FORMAT_VERSION) {
      throw new OpenError(shownPath, `its storage format ${meta.formatVersion} is not supported (expected ${FORMAT_VERSION})`)
    }
    if (meta.serializer !== name) {
      throw new OpenError(shownPath, `it was written with the ${meta.serializer} serializer, but was opened with the ${name} serializer`)
    }
  }

  // The core's store contract (synchronous).

  read(key: Buffer): KvRow | undefined {
    return this.#q.readRow(key)
  }

  readMany(keys: readonly Buffer[]): (KvRow | undefined)[] {
    return this.#readMany(keys)
  }

  readRange({ start, end, limit, reverse }: RangeQuery): KvRow[] {
    return this.#q.readRange(start, end, limit, reverse)
  }

  transact<T>(_keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): T {
    return this.#transact(fn)
  }

  purgeExpired(now: number, limit: number): number {
    return this.#transact((tx) => {
      const keys = this.#q.expiredKeys.all({ now, limit })
      for (const { key } of keys) tx.removeExpired(key, now)
      return keys.length
    })
  }

  close(): void {
    const { client, ownsClient } = this.#opened
    if (ownsClient && client.open) client.close()
  }

  // The public driver contract, over the same tables.

  get(key: Uint8Array): DriverEntry | undefined {
    const row = this.read(toBuffer(key))
    return row && toEntry(row)
  }

  set(key: Uint8Array, value: Uint8Array, versionstamp: string, expiresAt: number | null): void {
    const bytes = toBuffer(value)
    this.#q.writeRow({
      key: toBuffer(key),
      value: bytes.subarray(1),
      encoding: bytes[0] as number,
      version: Number(fromVersionstamp(versionstamp)),
      expiresAt,
    })
  }

  delete(key: Uint8Array): void {
    this.#q.removeRow(toBuffer(key))
  }

  list(start: Uint8Array, end: Uint8Array, _prefix: Uint8Array, _now: number, limit: number, reverse: boolean): DriverEntry[] {
    return this.readRange({ start: toBuffer(start), end: toBuffer(end), limit, reverse }).map(toEntry)
  }

  cleanup(now: number): void {
    while (this.purgeExpired(now, EXPIRED_ROWS_PER_TRANSACTION) === EXPIRED_ROWS_PER_TRANSACTION) {}
  }

  async withTransaction<T>(callback: () => Promise<T>): Promise<T> {
    const { client } = this.#opened
    client.exec('BEGIN IMMEDIATE')
    try {
      const result = await callback()
      try {
        client.exec('COMMIT')
      } catch (error) {
        if (client.inTransaction) client.exec('ROLLBACK')
        throw settleFailedCommit(client, error)
      }
      return result
    } catch (error) {
      if (client.inTransaction) client.exec('ROLLBACK')
      throw error
    }
  }
}

/**
 * What a failed COMMIT becomes. SQLite writes a commit's frames to the WAL, then syncs; when the write or sync
 * fails it rolls back in memory, but the frames stay in the file, and the recovery of the next open replays every
 * frame with a valid checksum and commit marker: the rejected commit would be applied after a restart. A
 * TRUNCATE checkpoint empties the WAL file, discarding those frames, and then the commit is certainly not applied
 * (the error is returned as it is). When the checkpoint cannot complete (another connection is reading, or the
 * disk fails again), the frames may survive, and the outcome is reported as unknown.
 */
function settleFailedCommit(client: Database.Database, error: unknown): unknown {
  try {
    const [status] = client.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
    if (status?.busy === 0) return error
  } catch {
    // The checkpoint failed as well: the frames may still be there.
  }
  return new CommitUnknownResultError({ cause: error })
}

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const toEntry = (row: KvRow): DriverEntry => ({
  key: row.key,
  value: Buffer.concat([Buffer.of(row.encoding), row.value]),
  versionstamp: toVersionstamp(row.version),
  expiresAt: row.expiresAt,
})
