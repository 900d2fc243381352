/**
 * The default store: SQLite through better-sqlite3, every query a prepared Drizzle statement. It implements the
 * core's store contract synchronously (the fast path), and the public driver contract too, so the built-in
 * storage is one driver among others. Its driver face keeps the library's records (driver.ts `VERSION_KEY`,
 * `SERIALIZER_KEY`) in `kv_meta`, where the fast path keeps them: one counter and one serializer per file.
 *
 * Write transactions of this process on one file queue on its write gate (write-gate.ts) whenever one of them is
 * held across an `await`; otherwise every call stays synchronous.
 */
import { asBuffer, type DriverEntry, type KvDriver } from '../driver.js'
import { entryToRow, recordedVersion, recordEntry, recordOf, rowToEntry } from '../driver-entry.js'
import { rmSync, statSync } from 'node:fs'
import type Database from 'better-sqlite3'
import { CommitUnknownResultError, OpenError } from '../../errors.js'
import { EXPIRED_ROWS_PER_TRANSACTION } from '../../limits.js'
import { type KvRow, type QueueStore, type RangeQuery, rowAt, type Storage, type StoreDescription, type WriteTransaction, writePlainSet } from '../store.js'
import { createSqliteQueue } from './queue.js'
import { assertOutsideTransaction } from './attach.js'
import { FORMAT_VERSION, formatProblem } from '../format.js'
import { openDatabase, type OpenedDatabase, type OpenFileOptions } from './database.js'
import { prepareDataVersion, prepareSingleSet, type KvQueries } from './queries.js'
import { cacheId, ReadCache } from './read-cache.js'
import { changeCounter, type ChangeCounter } from './wal-index.js'
import { pollDataVersion } from './change-poll.js'
import { createKvTables, DEFAULT_TABLE_NAMES } from './schema.js'
import { holdGate, type WriteGate } from './write-gate.js'

/** Opens a database file once no write transaction of this process is open on it (opening writes too). */
export async function openSqliteFile(options: OpenFileOptions): Promise<SqliteStorage> {
  if (options.path === ':memory:') return new SqliteStorage(openDatabase(options))
  const { gate, release } = holdGate(options.path)
  try {
    return await gate.run(() => new SqliteStorage(openDatabase(options)))
  } finally {
    release()
  }
}


export class SqliteStorage implements Storage, KvDriver {
  readonly #opened: OpenedDatabase
  readonly #q: KvQueries
  readonly #readMany: (keys: readonly Buffer[]) => (KvRow | undefined)[]
  readonly #transact: <T>(fn: (tx: WriteTransaction) => T) => T
  /** The file's write gate in this process (none in memory: no other connection shares that database). */
  readonly #gate: WriteGate | undefined
  readonly #releaseGate: () => void
  /** Rows read or written lately, for point reads (read-cache.ts); only on a connection Valkeyrie owns. */
  readonly #cache: ReadCache | undefined
  /** The cache's change counter (wal-index.ts), which may hold a descriptor of the `-shm` file. */
  readonly #changes: ChangeCounter | undefined
  /** A plain set in one statement (queries.ts `prepareSingleSet`); only on a writable connection Valkeyrie owns. */
  readonly #setOne: ((row: Omit<KvRow, 'version'>) => number) | undefined
  /** The queue in the file's queue table (none on a read-only connection). */
  readonly queue: QueueStore | undefined

  constructor(opened: OpenedDatabase) {
    const { client, queries } = opened
    this.#opened = opened
    this.#q = queries
    this.destroy = opened.ownsClient ? () => this.#destroy() : undefined
    const held = client.memory ? undefined : holdGate(client.name)
    this.#gate = held?.gate
    this.#releaseGate = held?.release ?? (() => {})
    const owned = opened.ownsClient
    const changes = owned ? changeCounter(client, prepareDataVersion(client)) : undefined
    this.#changes = changes
    const cache = changes && new ReadCache(changes.read)
    this.#cache = cache
    this.#setOne = owned && !opened.readOnly ? prepareSingleSet(client, createKvTables(DEFAULT_TABLE_NAMES)) : undefined
    // A deferred transaction: all reads see one snapshot.
    this.#readMany = client.transaction((keys: readonly Buffer[]) => keys.map(queries.readRow))
    // One transaction view, reused: the commit counter is read at most once per transaction and written at its end.
    let version: number | undefined
    // Rows the transaction writes while the cache holds anything: refreshed in the cache once it has committed.
    let written: KvRow[] = []
    const queue = opened.readOnly ? undefined : createSqliteQueue(client, opened.queueTable ?? 'kv_queue')
    this.queue = queue?.queue
    const tx: WriteTransaction = {
      enqueue: queue?.insert,
      read: queries.readRow,
      write:
        cache === undefined
          ? queries.writeRow
          : (row) => {
              queries.writeRow(row)
              if (cache.size > 0) written.push(row)
            },
      remove:
        cache === undefined
          ? queries.removeRow
          : (key) => {
              queries.removeRow(key)
              if (cache.size > 0) cache.drop(cacheId(key))
            },
      removeExpired:
        cache === undefined
          ? queries.removeExpiredRow
          : (key, now) => {
              queries.removeExpiredRow(key, now)
              if (cache.size > 0) cache.drop(cacheId(key))
            },
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
    const transact = <T>(fn: (tx: WriteTransaction) => T): T => {
      committing = false
      try {
        const result = immediate(fn)
        changes?.committed()
        if (written.length > 0) {
          for (const row of written) cache!.refresh(cacheId(row.key), row)
          written = []
        }
        return result
      } catch (error) {
        if (written.length > 0) {
          // Rolled back, or (CommitUnknownResultError) perhaps not: either way the cached rows may be stale.
          for (const row of written) cache!.drop(cacheId(row.key))
          written = []
        }
        if (committing) throw settleFailedCommit(client, error)
        throw error
      }
    }
    // On an application's connection every write (commits, purges of expired rows) first checks that the
    // application is not inside a transaction of its own; Valkeyrie's own file never is.
    this.#transact = opened.ownsClient
      ? transact
      : <T>(fn: (tx: WriteTransaction) => T): T => {
          assertOutsideTransaction(client)
          return transact(fn)
        }
  }

  /** The path shown in errors. */
  get shownPath(): string {
    return this.#opened.shownPath
  }

  /**
   * Runs the synchronous write `fn` now, unless a transaction of this process holds the file across an await:
   * then after it. A transaction of this very connection is the one running `fn`, so that never waits.
   */
  #whenFree<T>(fn: () => T): T | Promise<T> {
    const gate = this.#gate
    if (gate === undefined || !gate.busy || this.#opened.client.inTransaction) return fn()
    return gate.run(fn)
  }

  /** Records the serializer's name in a new database; returns the name recorded (another one's, if it has one). */
  recordSerializer(name: string): string | Promise<string> {
    return this.#whenFree(() => this.#recordSerializer(name))
  }

  #recordSerializer(name: string): string {
    const { client, shownPath, readOnly } = this.#opened
    const recordOnce = client.transaction(() => {
      this.#q.createMeta.run({ serializer: name, formatVersion: FORMAT_VERSION })
      return this.#q.readMeta.get()
    })
    let meta
    try {
      // Read-only: the record must be there already (a file is given one at its first open).
      if (!readOnly) assertOutsideTransaction(client)
      meta = readOnly ? this.#q.readMeta.get() : recordOnce.immediate()
    } catch (error) {
      // An I/O error or a full disk while recording the metadata row of a new file, or a read-only file.
      throw new OpenError(shownPath, (error as Error).message, { cause: error })
    }
    if (!meta) throw new OpenError(shownPath, 'its metadata row is missing')
    const problem = formatProblem(meta.formatVersion)
    if (problem) throw new OpenError(shownPath, problem)
    return meta.serializer
  }

  // The core's store contract (synchronous).

  read(key: Buffer): KvRow | undefined {
    const cache = this.#cache
    // Inside a transaction of this connection (the driver face's withTransaction) a read may see uncommitted rows.
    if (cache === undefined || this.#opened.client.inTransaction) return this.#q.readRow(key)
    const id = cacheId(key)
    const cached = cache.get(id)
    if (cached !== undefined) return cached
    const row = this.#q.readRow(key)
    if (row !== undefined) cache.put(id, row)
    return row
  }

  readMany(keys: readonly Buffer[]): (KvRow | undefined)[] {
    return this.#readMany(keys)
  }

  readRange({ start, end, limit, reverse }: RangeQuery): KvRow[] {
    return this.#q.readRange(start, end, limit, reverse)
  }

  transact<T>(_keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): T | Promise<T> {
    // Inlined #whenFree: this is the commit path, so no closure unless a wait is needed.
    const gate = this.#gate
    if (gate === undefined || !gate.busy || this.#opened.client.inTransaction) return this.#transact(fn)
    return gate.run(() => this.#transact(fn))
  }

  /**
   * One plain set in one statement (store.ts `writeOne`), where the connection allows it: on an application's
   * connection, or inside a transaction of this one, through `transact`.
   */
  writeOne(row: Omit<KvRow, 'version'>): number | Promise<number> {
    const setOne = this.#setOne
    const { client } = this.#opened
    if (setOne === undefined || client.inTransaction) {
      return this.transact(noKeys, writePlainSet(row))
    }
    const gate = this.#gate
    if (gate === undefined || !gate.busy) return this.#writeOne(setOne, row)
    return gate.run(() => this.#writeOne(setOne, row))
  }

  #writeOne(setOne: (row: Omit<KvRow, 'version'>) => number, row: Omit<KvRow, 'version'>): number {
    const cache = this.#cache
    let version: number
    try {
      version = setOne(row)
    } catch (error) {
      if (cache !== undefined && cache.size > 0) cache.drop(cacheId(row.key))
      // SQLite's implicit transaction: an I/O failure may have come from its commit (see settleFailedCommit).
      throw isIoFailure(error) ? settleFailedCommit(this.#opened.client, error) : error
    }
    this.#changes?.committed()
    if (cache !== undefined && cache.size > 0) cache.refresh(cacheId(row.key), rowAt(row, version))
    return version
  }

  /**
   * Commits of other connections to the file (other processes, other opens in this one), by polling the
   * connection's `PRAGMA data_version`, which moves for every commit but its own. None in memory.
   */
  watchChanges(onChange: () => void): () => void {
    const { client } = this.#opened
    if (client.memory) return () => {}
    return pollDataVersion(prepareDataVersion(client), onChange)
  }

  purgeExpired(now: number, limit: number): number | Promise<number> {
    return this.#whenFree(() => this.#purgeExpired(now, limit))
  }

  #purgeExpired(now: number, limit: number): number {
    return this.#transact((tx) => {
      const keys = this.#q.expiredKeys.all({ now, limit })
      for (const { key } of keys) tx.removeExpired(key, now)
      return keys.length
    })
  }

  close(): void {
    const { client, ownsClient } = this.#opened
    this.#releaseGate()
    if (ownsClient && client.open) client.close()
    // After the connection: closing the -shm descriptor earlier would drop SQLite's locks on that file.
    this.#changes?.close()
  }

  /** Counts rows (a full scan of the table), and reads the metadata row and the size on disk. */
  describe(now: number): StoreDescription {
    const { client, shownPath } = this.#opened
    const counts = this.#q.countRows.get({ now }) ?? { rows: 0, expired: 0 }
    const meta = this.#q.readMeta.get()
    if (!meta) throw new Error(`${shownPath} has no metadata row`)
    return {
      rows: counts.rows,
      expired: counts.expired,
      bytes: this.#opened.ownsClient ? databaseBytes(client) : tableBytes(client, this.#q.tableNames),
      serializer: meta.serializer,
      formatVersion: meta.formatVersion,
      version: meta.version,
    }
  }

  /** Closes the database and deletes its file with its -wal and -shm files; only for a file Valkeyrie opened. */
  readonly destroy: (() => void) | undefined

  #destroy(): void {
    const { client } = this.#opened
    const path = client.memory ? undefined : client.name
    this.close()
    if (path !== undefined) for (const suffix of DATABASE_FILE_SUFFIXES) rmSync(`${path}${suffix}`, { force: true })
  }

  // The public driver contract, over the same tables.

  get(key: Uint8Array): DriverEntry | undefined {
    const record = recordOf(key)
    if (record) return recordEntry(record, this.#q.readMeta.get())
    const row = this.read(asBuffer(key))
    return row && rowToEntry(row)
  }

  set(key: Uint8Array, value: Uint8Array, versionstamp: string, expiresAt: number | null): void | Promise<void> {
    return this.#whenFree(() => {
      this.#cache?.clear()
      this.#set(asBuffer(key), asBuffer(value), versionstamp, expiresAt)
    })
  }

  #set(key: Buffer, bytes: Buffer, versionstamp: string, expiresAt: number | null): void {
    const record = recordOf(key)
    if (record === 'version') {
      // The metadata row exists: the library records the serializer at open, before any commit.
      if (this.#q.readMeta.get() === undefined) throw new Error('internal error: the metadata row is missing')
      return this.#q.writeVersion(recordedVersion(versionstamp))
    }
    if (record === 'serializer') {
      this.#q.createMeta.run({ serializer: bytes.toString('utf8'), formatVersion: FORMAT_VERSION })
      return
    }
    this.#q.writeRow(entryToRow(key, bytes, versionstamp, expiresAt))
  }

  delete(key: Uint8Array): void | Promise<void> {
    return this.#whenFree(() => {
      this.#cache?.clear()
      this.#q.removeRow(asBuffer(key))
    })
  }

  list(start: Uint8Array, end: Uint8Array, _prefix: Uint8Array, _now: number, limit: number, reverse: boolean): DriverEntry[] {
    return this.readRange({ start: asBuffer(start), end: asBuffer(end), limit, reverse }).map(rowToEntry)
  }

  cleanup(now: number): void | Promise<void> {
    return this.#whenFree(() => {
      while (this.#purgeExpired(now, EXPIRED_ROWS_PER_TRANSACTION) === EXPIRED_ROWS_PER_TRANSACTION) {}
    })
  }

  /** Holds the file's write lock across the callback's awaits: other writers of this process queue meanwhile. */
  withTransaction<T>(callback: () => Promise<T>): Promise<T> {
    const gate = this.#gate
    if (gate === undefined || this.#opened.client.inTransaction) return this.#withTransaction(callback)
    return gate.run(() => this.#withTransaction(callback))
  }

  async #withTransaction<T>(callback: () => Promise<T>): Promise<T> {
    const { client } = this.#opened
    // Its writes go through the driver face (which clears the cache as it writes); a rollback undoes them.
    this.#cache?.clear()
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


/** The database file and the files SQLite keeps beside it. */
const DATABASE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal']

const noKeys = (): Buffer[] => []

/** An error of SQLite's I/O (disk full included), which a COMMIT may raise after writing frames to the WAL. */
function isIoFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL')
}

/** The pages of the database (in memory too), plus its WAL file when it has one. */
function databaseBytes(client: Database.Database): number {
  const pages = Number(client.pragma('page_count', { simple: true })) * Number(client.pragma('page_size', { simple: true }))
  if (client.memory) return pages
  try {
    return pages + statSync(`${client.name}-wal`).size
  } catch {
    return pages
  }
}

/**
 * On an application's connection the file holds its tables too: the bytes of ours alone, from SQLite's `dbstat`
 * table when it is compiled in (it is in better-sqlite3's build), else null.
 */
function tableBytes(client: Database.Database, names: { kv: string; meta: string }): number | null {
  try {
    const row = client
      .prepare('SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat WHERE name IN (?, ?) OR tbl_name IN (?, ?)')
      .get(names.kv, names.meta, names.kv, names.meta) as { bytes: number }
    return Number(row.bytes)
  } catch {
    return null
  }
}
