/** Expiry (SPEC §7): `expireIn` to an absolute time, liveness of rows, and the background sweep. */
import type { KvRow, Storage } from './store.js'
import { describeValue } from './errors.js'
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
 * Deletes expired rows in batches on a timer that never keeps the process alive, until stopped.
 * Also runs on demand (`cleanup()`).
 */
export class ExpirySweeper {
  readonly #storage: Storage
  readonly #clock: () => number
  #timer: NodeJS.Timeout | undefined

  constructor(storage: Storage, clock: () => number, intervalMs: number) {
    this.#storage = storage
    this.#clock = clock
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.#sweepInBackground(), intervalMs)
      this.#timer.unref()
    }
  }

  #sweepInBackground(): void {
    // A busy or failing store is retried at the next tick; an unhandled error here would crash the process.
    Promise.resolve()
      .then(() => this.#storage.purgeExpired(this.#clock(), SWEEP_BATCH))
      .catch(() => {})
  }

  /** Deletes every row expired now, a batch per transaction, yielding to the event loop between batches. */
  async sweep(): Promise<number> {
    let total = 0
    for (;;) {
      const deleted = await this.#storage.purgeExpired(this.#clock(), SWEEP_BATCH)
      total += deleted
      if (deleted < SWEEP_BATCH) return total
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
