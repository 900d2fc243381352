/** Expiry (SPEC §7): `expireIn` to an absolute time, liveness of rows, and the background sweep. */
import type { KvRow, Storage } from './storage/store.js'
import { DatabaseClosedError, describeValue } from './errors.js'
import { EXPIRED_ROWS_PER_TRANSACTION as SWEEP_BATCH, MAX_EXPIRE_IN_MS } from './limits.js'

/** The absolute expiry time of `expireIn` milliseconds from `now`, or null when `expireIn` is undefined. */
export function expiresAtFor(expireIn: unknown, now: number): number | null {
  if (expireIn === undefined) return null
  if (typeof expireIn !== 'number' || !Number.isInteger(expireIn)) {
    throw new TypeError(`expireIn must be a non-negative integer of milliseconds: received ${describeValue(expireIn)}`)
  }
  if (expireIn < 0 || expireIn > MAX_EXPIRE_IN_MS) {
    throw new RangeError(`expireIn must be between 0 and ${MAX_EXPIRE_IN_MS} milliseconds: received ${expireIn}`)
  }
  return now + expireIn
}

/**
 * The `expireIn` of set options (undefined when there are none). Throws `TypeError` for options that are not an
 * object or name an unknown option, so a misspelt `expiresIn` cannot silently store an entry that never expires.
 */
export function expireInOf(options: unknown): unknown {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`set options must be an object: received ${describeValue(options)}`)
  }
  for (const name in options) {
    if (name !== 'expireIn') throw new TypeError(`unknown set option ${JSON.stringify(name)}`)
  }
  return (options as { expireIn?: unknown }).expireIn
}

/** Whether a row is visible at `now`: an entry is dead from the millisecond it expires. */
export const isLive = (row: KvRow, now: number): boolean => row.expiresAt === null || row.expiresAt > now

/**
 * Deletes expired rows on a timer that never keeps the process alive, until stopped; also on demand (`cleanup()`).
 * A sweep deletes every row expired when it starts, a batch per transaction (so the write lock is never held long),
 * yielding to the event loop between batches: it keeps up with any expiry rate the store can write. Background
 * sweeps never overlap, and a sweep stops after its current batch once the sweeper is stopped.
 */
export class ExpirySweeper {
  readonly #storage: Storage
  readonly #clock: () => number
  readonly #beforeSweep: () => void
  #timer: NodeJS.Timeout | undefined
  /** The background sweep running now. */
  #running: Promise<void> | undefined
  #stopped = false

  /** `beforeSweep` runs as each sweep starts (the database forgets the expired rows its reads found). */
  constructor(storage: Storage, clock: () => number, intervalMs: number, beforeSweep: () => void) {
    this.#storage = storage
    this.#clock = clock
    this.#beforeSweep = beforeSweep
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.#sweepInBackground(), intervalMs)
      this.#timer.unref()
    }
  }

  #sweepInBackground(): void {
    if (this.#running) return
    // A busy or failing store is retried at the next tick; an unhandled error here would crash the process.
    this.#running = this.sweep()
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        this.#running = undefined
      })
  }

  /**
   * Deletes every row expired now, a batch per transaction, yielding to the event loop between batches.
   * Rejects with `DatabaseClosedError` when the sweeper is stopped before the sweep is done.
   */
  async sweep(): Promise<number> {
    this.#beforeSweep()
    const now = this.#clock()
    let total = 0
    for (;;) {
      if (this.#stopped) throw new DatabaseClosedError()
      const deleted = await this.#storage.purgeExpired(now, SWEEP_BATCH)
      total += deleted
      if (deleted < SWEEP_BATCH) return total
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Stops the timer; resolves once a background sweep running now has finished its current batch. */
  stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#timer = undefined
    return this.#running ?? Promise.resolve()
  }
}
