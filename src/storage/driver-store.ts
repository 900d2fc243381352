/**
 * Adapts a driver from `defineDriver` to the store contract the core uses. It gives every driver, however naive,
 * the library's guarantees: one operation at a time per database (so a commit's writes are never seen half
 * done), reads of a commit's keys before its synchronous plan runs, its writes afterwards, and on a failed write
 * the undoing of the writes already made.
 *
 * Driver-side formats: the value bytes are `[encoding, ...bytes]` (see value.ts); the library's own metadata
 * (the commit counter and the serializer's name) goes through `get` and `set` under the reserved keys of
 * driver.ts, which a driver may map onto metadata of its own.
 */
import { asBuffer, assertDriver, type DriverEntry, type DriverFactory, type KvDriver, SERIALIZER_KEY, VERSION_KEY } from './driver.js'
import { describeValue, OpenError } from '../errors.js'
import { BufferedTransaction, keyId } from './buffered-transaction.js'
import { entryToRow } from './driver-entry.js'
import type { KvRow, QueueStore, RangeQuery, Storage, StoreDescription, WriteTransaction } from './store.js'
import { createDriverQueue, messageKey, messageValue } from './driver-queue.js'
import { fromVersionstamp, toVersionstamp } from '../versionstamp.js'

/** Entries per `list` call while `describe` counts them. */
const DESCRIBE_PAGE_ROWS = 1000

const idOf = keyId

function toRow(entry: DriverEntry | null | undefined): KvRow | undefined {
  return entry ? entryToRow(asBuffer(entry.key), asBuffer(entry.value), entry.versionstamp, entry.expiresAt) : undefined
}

function commonPrefix(a: Uint8Array, b: Uint8Array): Uint8Array {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return a.subarray(0, i)
}

/** The last commit counter recorded under VERSION_KEY (its versionstamp). */
const versionOf = (entry: DriverEntry | null | undefined): number =>
  entry ? Number(fromVersionstamp(entry.versionstamp)) : 0

export class DriverStorage implements Storage {
  readonly #driver: KvDriver
  readonly #clock: () => number
  /** The tail of the chain of operations: each waits for the one before. */
  #tail: Promise<unknown> = Promise.resolve()

  /** The queue, in entries under reserved keys (driver-queue.ts). */
  readonly queue: QueueStore

  constructor(driver: KvDriver, clock: () => number) {
    this.#driver = driver
    this.#clock = clock
    this.queue = createDriverQueue({ driver, run: (fn) => this.#exclusive(() => this.#inTransaction(fn)) })
  }

  /** Runs `fn` after every operation queued before it. */
  #exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#tail.then(fn, fn)
    this.#tail = run.catch(() => {})
    return run
  }

  read(key: Buffer): Promise<KvRow | undefined> {
    return this.#exclusive(async () => toRow(await this.#driver.get(key, this.#clock())))
  }

  readMany(keys: readonly Buffer[]): Promise<(KvRow | undefined)[]> {
    return this.#exclusive(() =>
      this.#inTransaction(async () => {
        const rows: (KvRow | undefined)[] = []
        for (const key of keys) rows.push(toRow(await this.#driver.get(key, this.#clock())))
        return rows
      }),
    )
  }

  readRange({ start, end, limit, reverse }: RangeQuery): Promise<KvRow[]> {
    return this.#exclusive(async () => {
      const entries = await this.#driver.list(start, end, commonPrefix(start, end), this.#clock(), limit, reverse)
      return entries.map((entry) => toRow(entry) as KvRow)
    })
  }

  transact<T>(keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): Promise<T> {
    return this.#exclusive(() => this.#inTransaction(() => this.#transact(keys, fn)))
  }

  /**
   * Runs `fn` in the driver's `withTransaction`, and checks that it hands back `fn`'s result: one that forgets to
   * `return callback()` would otherwise surface as an obscure failure further on, or as a commit never confirmed.
   */
  async #inTransaction<T>(fn: () => Promise<T>): Promise<T> {
    let running: Promise<T> | undefined
    const returned: unknown = this.#driver.withTransaction(() => (running = fn()))
    if (typeof (returned as PromiseLike<T> | undefined)?.then !== 'function') {
      // Let a callback started anyway finish before reporting, so nothing writes after the failure.
      await (running as Promise<T> | undefined)?.catch(() => {})
      throw new TypeError(`withTransaction must return the callback's result (a promise of it): received ${describeValue(returned)}`)
    }
    const result = await (returned as PromiseLike<T>)
    if (running === undefined) throw new TypeError('withTransaction resolved without running the callback')
    if (result !== (await running)) {
      throw new TypeError(`withTransaction must resolve to the callback's result: received ${describeValue(result)}`)
    }
    return result
  }

  async #transact<T>(keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): Promise<T> {
    const driver = this.#driver
    const now = this.#clock()
    // Load every key the synchronous function may touch, and remember it for undoing.
    const before = new Map<string, DriverEntry | undefined>()
    for (const key of [VERSION_KEY, ...keys()]) {
      const id = idOf(key)
      if (!before.has(id)) before.set(id, (await driver.get(key, now)) ?? undefined)
    }
    const current = new Map<string, KvRow | undefined>()
    for (const [id, entry] of before) if (id !== idOf(VERSION_KEY)) current.set(id, toRow(entry))
    const tx = new BufferedTransaction(current, versionOf(before.get(idOf(VERSION_KEY))))
    const result = fn(tx)
    const version = tx.version
    const done: Buffer[] = []
    try {
      for (const { key, row } of tx.writes.values()) {
        if (row) {
          const value = Buffer.concat([Buffer.of(row.encoding), row.value])
          await driver.set(key, value, toVersionstamp(row.version), row.expiresAt)
        } else {
          await driver.delete(key)
        }
        done.push(key)
      }
      for (let i = 0; i < tx.messages.length; i++) {
        const key = messageKey(version as number, i)
        await driver.set(key, messageValue(tx.messages[i] as (typeof tx.messages)[number]), toVersionstamp(version as number), null)
        done.push(key)
      }
      if (version !== undefined) await driver.set(VERSION_KEY, Buffer.of(0), toVersionstamp(version), null)
    } catch (error) {
      await this.#undo(done, before)
      throw error
    }
    return result
  }

  /** Puts back what `keys` held before a failed commit (best effort: the store is already failing). */
  async #undo(keys: readonly Buffer[], before: Map<string, DriverEntry | undefined>): Promise<void> {
    for (const key of [...keys].reverse()) {
      const old = before.get(idOf(key))
      try {
        if (old) await this.#driver.set(key, old.value, old.versionstamp, old.expiresAt)
        else await this.#driver.delete(key)
      } catch {
        // Keep undoing the others; the original error is what the caller gets.
      }
    }
  }

  purgeExpired(now: number): Promise<number> {
    // Drivers clean up in one call and report no count.
    return this.#exclusive(async () => {
      await this.#driver.cleanup(now)
      return 0
    })
  }

  /**
   * Counts the entries by listing every key, a page at a time, as of time 0 (so that a driver that leaves out
   * expired entries still lists them all) and compares each expiry with `now`. A driver knows no size on disk and
   * no format version.
   */
  describe(now: number): Promise<StoreDescription> {
    return this.#exclusive(async () => {
      let rows = 0
      let expired = 0
      let start = Buffer.of(0x00)
      const end = Buffer.of(0xff)
      for (;;) {
        const page = await this.#driver.list(start, end, Buffer.alloc(0), 0, DESCRIBE_PAGE_ROWS, false)
        for (const entry of page) {
          rows++
          if (entry.expiresAt !== null && entry.expiresAt <= now) expired++
        }
        const last = page.at(-1)
        if (page.length < DESCRIBE_PAGE_ROWS || last === undefined) break
        start = Buffer.concat([asBuffer(last.key), Buffer.of(0x00)])
      }
      const serializer = await this.#driver.get(SERIALIZER_KEY, now)
      const version = versionOf(await this.#driver.get(VERSION_KEY, now))
      return {
        rows,
        expired,
        bytes: null,
        serializer: serializer ? Buffer.from(serializer.value).toString('utf8') : '',
        formatVersion: null,
        version,
      }
    })
  }

  close(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#driver.close()
    })
  }

  /** Records the serializer's name in a new store; returns the name recorded (another one's, if it has one). */
  async recordSerializer(name: string, shownPath: string): Promise<string> {
    try {
      return await this.#exclusive(() =>
      this.#inTransaction(async () => {
        const entry = await this.#driver.get(SERIALIZER_KEY, this.#clock())
        if (entry) return Buffer.from(entry.value).toString('utf8')
        await this.#driver.set(SERIALIZER_KEY, Buffer.from(name, 'utf8'), toVersionstamp(0), null)
        return name
      }),
      )
    } catch (error) {
      throw new OpenError(shownPath, `the driver failed: ${(error as Error)?.message ?? String(error)}`, { cause: error })
    }
  }
}

/** Makes a driver from a factory (or takes a driver object) and checks its shape. Throws `OpenError` on failure. */
export async function makeDriver(source: DriverFactory | KvDriver, path: string | undefined, shownPath: string): Promise<KvDriver> {
  let driver: unknown
  try {
    driver = typeof source === 'function' ? await source(path) : source
  } catch (error) {
    throw new OpenError(shownPath, `the driver failed to open: ${(error as Error)?.message ?? String(error)}`, { cause: error })
  }
  assertDriver(driver)
  return driver
}
