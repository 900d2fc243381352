/**
 * The PostgreSQL store. Every commit group is one READ COMMITTED transaction in two flights (round trips, see
 * flights.ts): the first takes the database's write lock (the counter row, `FOR UPDATE`) and reads the keys the
 * group touches; the core plans the group synchronously on those rows; the second writes the rows, the counter,
 * the statements other features add (`extraStatements`) and COMMIT. The lock is held across one round trip, and
 * released only once the commit is visible, so versionstamps increase in the order commits become visible, in
 * every process and on every host. A group of sets and deletes alone, while this store wrote last, is one flight
 * instead (`#tryBlind`; a plain set alone in its group, the commonest commit, gets that flight from `writeOne`
 * without a group being planned). Reads are single statements on the pool.
 */
import { CommitUnknownResultError, OpenError, StorageError } from '../../errors.js'
import { PG_COMMIT_ATTEMPTS, PG_IDLE_IN_TRANSACTION_MS } from '../../limits.js'
import type { Durability } from '../../types.js'
import { BufferedTransaction, keyId, NEEDS_READS } from '../buffered-transaction.js'
import { FORMAT_VERSION, formatProblem } from '../format.js'
import { type KvRow, type QueueStore, type RangeQuery, rowAt, type Storage, type StoreDescription, type WriteTransaction, writePlainSet } from '../store.js'
import { type PgClient, type PgPool, type PgQuery, type PgResult, sqlState, withConnection } from './client.js'
import { type CommitChannel, textChannel } from './flights.js'
import { RememberedRows } from './remembered-rows.js'
import { type CommitStatement, isStaleGuess, type PgStatements, toRow, type TransactionSettings } from './sql.js'
import { type ListenConnection, listenForChanges } from './listen.js'

const NO_STATEMENTS: readonly CommitStatement[] = []
const NO_KEYS: readonly Buffer[] = []
/** The rows a commit that reads nothing guesses: none. */
const NO_GUESS = { keys: NO_KEYS, versions: [] }

/**
 * Whether a group's commit notifies the other clients (watch() streams, queue listeners): when it writes rows,
 * deletes them or enqueues messages.
 */
const notifies = (tx: BufferedTransaction, written: readonly KvRow[], removed: readonly Buffer[]): boolean =>
  written.length > 0 || removed.length > 0 || tx.messages.length > 0

/** Serialization failure and deadlock: the transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01'])

const retryable = (error: unknown): boolean => RETRYABLE.has(sqlState(error) ?? '')

export interface PostgresStorageOptions {
  pool: PgPool
  /** How commits reach the server (default: as text, on connections of `pool`). */
  commits?: CommitChannel | undefined
  statements: PgStatements
  /** Whether Valkeyrie made the pool (and so ends it at close, and may destroy the tables). */
  ownsPool: boolean
  /** The qualified name of the migrations journal beside the tables, when Valkeyrie's migrations made them. */
  journal?: string | undefined
  durability: Durability
  /** How long a commit waits for the write lock, in ms. */
  busyTimeout: number
  shownPath: string
  /** The queue in the queue table (queue.ts). */
  queue?: QueueStore | undefined
  /** Opens the connection watch() listens on for other clients' commits (none: only this instance's are seen). */
  listen?: (() => Promise<ListenConnection>) | undefined
}

/**
 * Whether a failure lost the connection (or the server ended the session), rather than being the server's answer
 * to one of the statements. In the second round trip of a commit, an answered error aborted the transaction
 * before COMMIT ran; a lost session may have come after COMMIT, so the outcome is unknown.
 */
function sessionLost(error: unknown): boolean {
  const state = sqlState(error)
  // By SQLSTATE (the severity's text is translated by the server's lc_messages): no answer at all, a connection
  // exception, the server shutting down or crashing (57P*), or the session ended for idling in its transaction.
  return state === undefined || state.startsWith('08') || state.startsWith('57P') || state === '25P03'
}

/** The settings of every write transaction of a store. */
export function transactionSettings(durability: Durability, busyTimeout: number): TransactionSettings {
  return {
    synchronousCommit: durability === 'full' ? 'on' : 'off',
    // Postgres reads a lock_timeout of 0 as "wait forever"; SQLite's 0 means "do not wait".
    lockTimeout: Math.max(1, busyTimeout),
    idleTimeout: PG_IDLE_IN_TRANSACTION_MS,
  }
}

export class PostgresStorage implements Storage {
  readonly #pool: PgPool
  readonly #commits: CommitChannel
  /** The settings each transaction sets, when its connection's session does not have them. */
  readonly #perTransaction: TransactionSettings | undefined
  readonly #sql: PgStatements
  readonly #ownsPool: boolean
  readonly #settings: TransactionSettings
  readonly shownPath: string
  readonly #listen: (() => Promise<ListenConnection>) | undefined
  /** The callers of `watchChanges` now, and how to stop their shared LISTEN connection. */
  readonly #changeSubscribers = new Set<() => void>()
  #stopListening: (() => void) | undefined
  /**
   * The counter as this store's last commit left it, while no failure or other writer is known to have come since:
   * the guess a group that reads nothing commits on in one round trip.
   */
  #counter: number | undefined
  /** Rows this store saw last, to guess a group that reads on (see `#tryBlind`). */
  readonly #remembered = new RememberedRows()

  /** The queue, when the tables have one. */
  readonly queue: QueueStore | undefined

  constructor(options: PostgresStorageOptions) {
    this.queue = options.queue
    this.#pool = options.pool
    this.#sql = options.statements
    this.#ownsPool = options.ownsPool
    const { journal } = options
    this.destroy = options.ownsPool && journal !== undefined ? () => this.#destroy(journal) : undefined
    this.shownPath = options.shownPath
    this.#listen = options.listen
    this.#settings = transactionSettings(options.durability, options.busyTimeout)
    this.#commits = options.commits ?? textChannel(this.#pool)
    this.#perTransaction = this.#commits.settingsPerTransaction ? this.#settings : undefined
  }

  /**
   * Statements other features add to a group's transaction, after its writes and before COMMIT, in every flight
   * shape: the queue messages the group enqueues. (`writeOne` adds none: a plain set alone in its group enqueues
   * nothing.)
   */
  extraStatements(tx: BufferedTransaction): readonly CommitStatement[] {
    const { messages } = tx
    return messages.length > 0 ? [this.#sql.enqueue(messages)] : NO_STATEMENTS
  }

  /** The pool, for the driver face. */
  get pool(): PgPool {
    return this.#pool
  }

  async read(key: Buffer): Promise<KvRow | undefined> {
    const { rows } = await this.#pool.query(this.#sql.getRow(key))
    const row = rows[0] && toRow(rows[0])
    this.#remembered.remember(key, row)
    return row
  }

  async readMany(keys: readonly Buffer[]): Promise<(KvRow | undefined)[]> {
    const { rows } = await this.#pool.query(this.#sql.getRows(keys))
    const found = new Map<string, KvRow>()
    for (const r of rows) {
      const row = toRow(r)
      found.set(keyId(row.key), row)
    }
    return keys.map((key) => {
      const row = found.get(keyId(key))
      this.#remembered.remember(key, row)
      return row
    })
  }

  async readRange({ start, end, limit, reverse }: RangeQuery): Promise<KvRow[]> {
    const { rows } = await this.#pool.query(this.#sql.range(start, end, limit, reverse))
    return rows.map(toRow)
  }

  async transact<T>(keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): Promise<T> {
    const unique = new Map<string, Buffer>()
    for (const key of keys()) unique.set(keyId(key), key)
    const loaded = [...unique.values()]
    try {
      const blind = await this.#tryBlind(loaded, fn)
      if (blind) return blind.result
    } catch (error) {
      // A deadlock or serialization failure wrote nothing: the group runs again the usual way.
      if (!retryable(error)) throw error
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transactOnce(loaded, fn)
      } catch (error) {
        this.#counter = undefined
        if (attempt >= PG_COMMIT_ATTEMPTS || !retryable(error)) throw error
      }
    }
  }

  /**
   * Commits in one round trip a group that reads nothing, or reads only rows this store remembers, when the counter
   * is known from this store's last commit: the function runs on those guesses, and the commit applies only if
   * they still hold when the lock is taken. Undefined when the group reads a row not remembered, the counter is
   * unknown, a guess was stale (then the group runs again the usual way, and nothing of this attempt was
   * written), or the group read and wrote nothing (its reads are checked the usual way).
   */
  async #tryBlind<T>(keys: readonly Buffer[], fn: (tx: WriteTransaction) => T): Promise<{ result: T } | undefined> {
    const from = this.#counter
    if (from === undefined) return undefined
    const guess = this.#remembered.guess(keys)
    const tx = new BufferedTransaction(guess, from)
    let result: T
    try {
      result = fn(tx)
    } catch (error) {
      if (error === NEEDS_READS) return undefined
      throw error
    }
    const read = guess === undefined ? [] : [...guess.read]
    if (tx.version === undefined) return read.length === 0 ? { result } : undefined
    const { written, removed } = tx.split()
    const to = tx.version
    const extras = this.extraStatements(tx)
    const guessed = {
      keys: read.map((id) => Buffer.from(id, 'latin1')),
      versions: read.map((id) => guess!.guessed.get(id) ?? null),
    }
    const flight = this.#sql.oneFlightCommit(guessed, written, removed, { from, to }, this.#perTransaction, extras, notifies(tx, written, removed))
    if (!(await this.#sendOneFlight(flight, to))) return undefined
    this.#rememberWrites(written, removed)
    return { result }
  }

  /**
   * One plain set alone in its group (store.ts `writeOne`): while the counter is known from this store's last
   * commit, the one flight `#tryBlind` would send for it (BEGIN, the guarded counter UPDATE, the upsert, COMMIT),
   * built without planning a group; otherwise, or when that guess was stale, through `transact`.
   */
  async writeOne(set: Omit<KvRow, 'version'>): Promise<number> {
    const from = this.#counter
    if (from !== undefined) {
      const to = from + 1
      const row = rowAt(set, to)
      const flight = this.#sql.oneFlightCommit(NO_GUESS, [row], NO_KEYS, { from, to }, this.#perTransaction, NO_STATEMENTS, true)
      let sent: boolean
      try {
        sent = await this.#sendOneFlight(flight, to)
      } catch (error) {
        // A deadlock or serialization failure wrote nothing: the set runs again the usual way.
        if (!retryable(error)) throw error
        sent = false
      }
      if (sent) {
        this.#remembered.remember(row.key, row)
        return to
      }
    }
    return this.transact(() => [set.key], writePlainSet(set))
  }

  /**
   * Sends a one-flight commit guessed on the counter (`oneFlightCommit`); true once it committed, with the counter
   * now `to`. False when the guess was stale (nothing was written); throws on any other failure, a lost session as
   * a CommitUnknownResultError.
   */
  async #sendOneFlight(flight: PgQuery[], to: number): Promise<boolean> {
    const bumped = await withConnection(this.#commits.pool, async (client, broken) => {
      try {
        await this.#commits.send(client, flight)
        return true
      } catch (error) {
        this.#counter = undefined
        if (!sessionLost(error)) {
          const lost = await rollback(client, error)
          if (lost) broken(lost)
          if (isStaleGuess(error)) return false
          throw error
        }
        broken(error as Error)
        throw new CommitUnknownResultError({ cause: error })
      }
    })
    this.#counter = bumped ? to : undefined
    return bumped
  }

  #transactOnce<T>(keys: readonly Buffer[], fn: (tx: WriteTransaction) => T): Promise<T> {
    return withConnection(this.#commits.pool, async (client, broken) => {
      const fail = async (error: unknown, sent: unknown): Promise<never> => {
        const lost = await rollback(client, sent)
        if (lost) broken(lost)
        throw error
      }
      let results: PgResult[]
      try {
        results = await this.#commits.send(client, this.#sql.begin(keys, this.#perTransaction))
      } catch (error) {
        return fail(error, error)
      }
      const counter = results.at(-2)?.rows[0]
      if (counter === undefined) {
        return fail(new StorageError('commit', { cause: new Error(`${this.shownPath} has no metadata row`) }), undefined)
      }
      const rows = new Map<string, KvRow | undefined>()
      for (const key of keys) rows.set(keyId(key), undefined)
      for (const r of results.at(-1)?.rows ?? []) {
        const row = toRow(r)
        rows.set(keyId(row.key), row)
      }
      for (const key of keys) this.#remembered.remember(key, rows.get(keyId(key)))
      const tx = new BufferedTransaction(rows, Number(counter.version))
      let result: T
      try {
        result = fn(tx)
      } catch (error) {
        return fail(error, undefined)
      }
      const { written, removed } = tx.split()
      const flight = this.#sql.commit(written, removed, tx.version, this.extraStatements(tx), notifies(tx, written, removed))
      try {
        await this.#commits.send(client, flight)
      } catch (error) {
        if (!sessionLost(error)) return fail(error, error)
        broken(error as Error)
        throw new CommitUnknownResultError({ cause: error })
      }
      this.#counter = tx.version ?? Number(counter.version)
      this.#rememberWrites(written, removed)
      return result
    })
  }

  #rememberWrites(written: readonly KvRow[], removed: readonly Buffer[]): void {
    for (const row of written) this.#remembered.remember(row.key, row)
    for (const key of removed) this.#remembered.remember(key, undefined)
  }

  /**
   * Other clients' commits, heard on one LISTEN connection (listen.ts) shared by every caller (watch streams, a
   * queue listener) and held while at least one listens.
   */
  watchChanges(onChange: () => void): () => void {
    const listen = this.#listen
    if (listen === undefined) return () => {}
    // A wrapper of its own: the same function given twice is two subscriptions.
    const subscription = (): void => onChange()
    const subscribers = this.#changeSubscribers
    subscribers.add(subscription)
    if (subscribers.size === 1) {
      this.#stopListening = listenForChanges(listen, this.#sql.listen, this.#sql.channel, () => {
        for (const subscriber of [...subscribers]) subscriber()
      })
    }
    return () => {
      if (!subscribers.delete(subscription) || subscribers.size > 0) return
      this.#stopListening?.()
      this.#stopListening = undefined
    }
  }

  async purgeExpired(now: number, limit: number): Promise<number> {
    const { rowCount } = await this.#pool.query(this.#sql.purge(now, limit))
    return rowCount ?? 0
  }

  /** Records the serializer's name in a new database; returns the name recorded (another one's, if it has one). */
  async recordSerializer(name: string, shownPath: string): Promise<string> {
    let meta: Record<string, unknown> | undefined
    try {
      await this.#pool.query(this.#sql.createMeta(name, FORMAT_VERSION))
      meta = (await this.#pool.query(this.#sql.readMeta)).rows[0]
    } catch (error) {
      throw new OpenError(shownPath, (error as Error).message, { cause: error })
    }
    if (!meta) throw new OpenError(shownPath, 'its metadata row is missing')
    const problem = formatProblem(Number(meta.format_version))
    if (problem) throw new OpenError(shownPath, problem)
    return meta.serializer as string
  }

  async describe(now: number): Promise<StoreDescription> {
    const found = (await this.#pool.query(this.#sql.describe(now))).rows[0]
    if (!found) throw new Error(`${this.shownPath} has no metadata row`)
    return {
      rows: Number(found.rows),
      expired: Number(found.expired),
      bytes: Number(found.bytes),
      serializer: found.serializer as string,
      formatVersion: Number(found.format_version),
      version: Number(found.version),
    }
  }

  /**
   * Drops the tables (and the migrations journal) and closes; only for a database Valkeyrie opened from a URL. The
   * Postgres schema stays: it may hold other tables.
   */
  readonly destroy: (() => Promise<void>) | undefined

  async #destroy(journal: string): Promise<void> {
    await this.#pool.query({ text: this.#sql.dropTables(journal) })
    await this.close()
  }

  async close(): Promise<void> {
    await this.#commits.close()
    if (this.#ownsPool) await this.#pool.end()
  }
}

/**
 * Ends a failed transaction so its connection can return to the pool; returns the error to release the
 * connection with (the pool then closes it) when it cannot be trusted any more.
 */
async function rollback(client: PgClient, error: unknown): Promise<Error | undefined> {
  if (error !== undefined && sessionLost(error)) return error as Error
  try {
    await client.query('ROLLBACK')
    return undefined
  } catch (failure) {
    return failure as Error
  }
}
