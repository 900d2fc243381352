/**
 * The PostgreSQL store. Every commit group is one READ COMMITTED transaction in two round trips: the first takes
 * the database's write lock (the counter row, `FOR UPDATE`) and reads the keys the group touches; the core plans
 * the group synchronously on those rows; the second writes the rows, the counter and COMMIT. The lock is held
 * across one round trip, and released only once the commit is visible, so versionstamps increase in the order
 * commits become visible, in every process and on every host. Reads are single statements.
 */
import { CommitUnknownResultError, OpenError } from '../../errors.js'
import { PG_COMMIT_ATTEMPTS, PG_IDLE_IN_TRANSACTION_MS } from '../../limits.js'
import type { Durability } from '../../types.js'
import { BufferedTransaction, keyId } from '../buffered-transaction.js'
import { FORMAT_VERSION, formatProblem } from '../format.js'
import type { KvRow, RangeQuery, Storage, WriteTransaction } from '../store.js'
import { type PgClient, type PgPool, type PgResult, sqlState } from './client.js'
import { resultsOf, type PgStatements, toRow, type TransactionSettings } from './sql.js'

/** Serialization failure and deadlock: the transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01'])

export interface PostgresStorageOptions {
  pool: PgPool
  statements: PgStatements
  /** Whether Valkeyrie made the pool (and so ends it at close). */
  ownsPool: boolean
  durability: Durability
  /** How long a commit waits for the write lock, in ms. */
  busyTimeout: number
  shownPath: string
}

/**
 * Whether a failure of the second round trip may have left the commit applied. An error the server answered
 * for one of its statements aborted the transaction before COMMIT ran; a connection lost, or a session ended
 * (FATAL) meanwhile, may have come after COMMIT.
 */
function mayHaveCommitted(error: unknown): boolean {
  const severity = (error as { severity?: unknown })?.severity
  const state = sqlState(error)
  return state === undefined || state.startsWith('08') || severity === 'FATAL' || severity === 'PANIC'
}

export class PostgresStorage implements Storage {
  readonly #pool: PgPool
  readonly #sql: PgStatements
  readonly #ownsPool: boolean
  readonly #settings: TransactionSettings
  readonly shownPath: string

  constructor(options: PostgresStorageOptions) {
    this.#pool = options.pool
    this.#sql = options.statements
    this.#ownsPool = options.ownsPool
    this.shownPath = options.shownPath
    this.#settings = {
      synchronousCommit: options.durability === 'full' ? 'on' : 'off',
      lockTimeout: options.busyTimeout,
      idleTimeout: PG_IDLE_IN_TRANSACTION_MS,
    }
  }

  /** The pool, for the driver face. */
  get pool(): PgPool {
    return this.#pool
  }

  async read(key: Buffer): Promise<KvRow | undefined> {
    const { rows } = await this.#pool.query(this.#sql.getRow(key))
    return rows[0] && toRow(rows[0])
  }

  async readMany(keys: readonly Buffer[]): Promise<(KvRow | undefined)[]> {
    const { rows } = await this.#pool.query(this.#sql.getRows(keys))
    const found = new Map<string, KvRow>()
    for (const r of rows) {
      const row = toRow(r)
      found.set(keyId(row.key), row)
    }
    return keys.map((key) => found.get(keyId(key)))
  }

  async readRange({ start, end, limit, reverse }: RangeQuery): Promise<KvRow[]> {
    const { rows } = await this.#pool.query(this.#sql.range(start, end, limit, reverse))
    return rows.map(toRow)
  }

  async transact<T>(keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): Promise<T> {
    const unique = new Map<string, Buffer>()
    for (const key of keys()) unique.set(keyId(key), key)
    const loaded = [...unique.values()]
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transactOnce(loaded, fn)
      } catch (error) {
        const state = sqlState(error)
        if (attempt >= PG_COMMIT_ATTEMPTS || state === undefined || !RETRYABLE.has(state)) throw error
      }
    }
  }

  async #transactOnce<T>(keys: readonly Buffer[], fn: (tx: WriteTransaction) => T): Promise<T> {
    const client = await this.#pool.connect()
    let broken: Error | undefined
    try {
      let results: PgResult[]
      try {
        results = resultsOf(await client.query(this.#sql.begin(keys, this.#settings)))
      } catch (error) {
        broken = await rollback(client, error)
        throw error
      }
      const counter = results[2]?.rows[0]
      if (counter === undefined) {
        broken = await rollback(client, undefined)
        throw new Error('the metadata row is missing')
      }
      const rows = new Map<string, KvRow | undefined>()
      for (const key of keys) rows.set(keyId(key), undefined)
      for (const r of results[3]?.rows ?? []) {
        const row = toRow(r)
        rows.set(keyId(row.key), row)
      }
      const tx = new BufferedTransaction(rows, Number(counter.version))
      let result: T
      try {
        result = fn(tx)
      } catch (error) {
        broken = await rollback(client, undefined)
        throw error
      }
      const written: KvRow[] = []
      const removed: Buffer[] = []
      for (const { key, row } of tx.writes.values()) {
        if (row) written.push(row)
        else removed.push(key)
      }
      try {
        await client.query(this.#sql.commit(written, removed, tx.version))
      } catch (error) {
        if (mayHaveCommitted(error)) {
          broken = error as Error
          throw new CommitUnknownResultError({ cause: error })
        }
        broken = await rollback(client, error)
        throw error
      }
      return result
    } finally {
      client.release(broken)
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

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end()
  }
}

/**
 * Ends a failed transaction so its connection can return to the pool; returns the error to release the
 * connection with (the pool then closes it) when it cannot be trusted any more.
 */
async function rollback(client: PgClient, error: unknown): Promise<Error | undefined> {
  if (error !== undefined && mayHaveCommitted(error)) return error as Error
  try {
    await client.query('ROLLBACK')
    return undefined
  } catch (failure) {
    return failure as Error
  }
}
