/**
 * One watch stream: the keys it follows, the state it last produced, and the one state its reader has not taken
 * yet. States are coalesced: a new one replaces the undelivered one, so a slow reader never makes memory grow and
 * always gets the latest state. Re-reads run one at a time; a change announced during a re-read triggers one more
 * after it. An entry with an expiry sets a timer for the nearest one, which re-reads when it passes.
 */
import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web'
import { toEntry } from '../entry.js'
import { isLive } from '../expiry.js'
import { MAX_TIMER_MS, WATCH_RETRY_MAX_MS, WATCH_RETRY_MIN_MS } from '../limits.js'
import type { Serializer } from '../serializers/serializer.js'
import type { KvRow, MaybePromise } from '../storage/store.js'
import type { KvEntryMaybe, KvKey } from '../types.js'

/** What a watch reads through: the database's reads, clock and serializer. */
export interface WatchSource {
  /** Reads the keys in one snapshot (committed data only). */
  readMany(keys: readonly Buffer[]): MaybePromise<(KvRow | undefined)[]>
  clock: () => number
  serializer: Serializer
}

/** The identity of an encoded key, as a map key. */
export const keyId = (key: Buffer): string => key.toString('latin1')

export class WatchedKeys {
  readonly stream: ReadableStream<KvEntryMaybe[]>
  /** The ids of the encoded keys, for matching a commit's keys. */
  readonly ids: readonly string[]
  readonly #keys: readonly KvKey[]
  readonly #encoded: readonly Buffer[]
  readonly #source: WatchSource
  readonly #raw: boolean
  readonly #onEnd: (watch: WatchedKeys) => void
  #controller!: ReadableStreamDefaultController<KvEntryMaybe[]>
  /** The versionstamps of the last state produced (undefined before the first). */
  #last: (string | null)[] | undefined
  /** The state produced and not yet taken by the reader. */
  #pending: KvEntryMaybe[] | undefined
  /** Resolves the pull waiting for a state, when the reader is waiting. */
  #wake: (() => void) | undefined
  #reading = false
  /** A change came during the current re-read: read once more after it. */
  #dirty = false
  #ended = false
  #expiryTimer: NodeJS.Timeout | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #retryDelay = WATCH_RETRY_MIN_MS

  constructor(keys: readonly KvKey[], encoded: readonly Buffer[], raw: boolean, source: WatchSource, onEnd: (watch: WatchedKeys) => void) {
    this.#keys = keys
    this.#encoded = encoded
    this.ids = encoded.map(keyId)
    this.#raw = raw
    this.#source = source
    this.#onEnd = onEnd
    this.stream = new ReadableStream<KvEntryMaybe[]>(
      {
        start: (controller) => {
          this.#controller = controller
        },
        pull: () => this.#pull(),
        cancel: () => this.end(),
      },
      // Nothing queued inside the stream: the one undelivered state is `#pending`, replaced by newer ones.
      { highWaterMark: 0 },
    )
  }

  /** Something the keys may depend on changed: re-read them (after the re-read in progress, if any). */
  refresh(): void {
    if (this.#ended) return
    if (this.#reading) {
      this.#dirty = true
      return
    }
    void this.#read()
  }

  /** Ends the stream (its reader sees the end) and releases its timers; idempotent. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#pending = undefined
    clearTimeout(this.#expiryTimer)
    clearTimeout(this.#retryTimer)
    const wake = this.#wake
    this.#wake = undefined
    try {
      this.#controller.close()
    } catch {
      // Already closed or errored (a cancel).
    }
    wake?.()
    this.#onEnd(this)
  }

  #pull(): void | Promise<void> {
    const state = this.#pending
    if (state !== undefined) {
      this.#pending = undefined
      this.#controller.enqueue(state)
      return
    }
    if (this.#ended) return
    return new Promise<void>((resolve) => (this.#wake = resolve))
  }

  #offer(state: KvEntryMaybe[]): void {
    const wake = this.#wake
    if (wake === undefined) {
      this.#pending = state
      return
    }
    this.#wake = undefined
    this.#controller.enqueue(state)
    wake()
  }

  async #read(): Promise<void> {
    this.#reading = true
    try {
      do {
        this.#dirty = false
        let rows: (KvRow | undefined)[]
        try {
          const found = this.#source.readMany(this.#encoded)
          rows = found instanceof Promise ? await found : found
        } catch {
          // A failed read (a lost connection): tried again later, while the stream is open.
          if (!this.#ended) this.#retryLater()
          return
        }
        if (this.#ended) return
        this.#retryDelay = WATCH_RETRY_MIN_MS
        this.#produce(rows)
      } while (this.#dirty && !this.#ended)
    } catch (error) {
      // A value that cannot be decoded: the stream fails with the CorruptValueError naming its key.
      this.#fail(error)
    } finally {
      this.#reading = false
    }
  }

  #produce(rows: readonly (KvRow | undefined)[]): void {
    const now = this.#source.clock()
    let nextExpiry = Infinity
    const state = this.#keys.map((key, i): KvEntryMaybe => {
      const row = rows[i]
      if (row === undefined || !isLive(row, now)) return { key: [...key], value: null, versionstamp: null }
      if (row.expiresAt !== null && row.expiresAt < nextExpiry) nextExpiry = row.expiresAt
      return toEntry([...key], row, this.#source.serializer)
    })
    this.#scheduleExpiry(nextExpiry, now)
    const stamps = state.map((entry) => entry.versionstamp)
    const last = this.#last
    if (!this.#raw && last !== undefined && stamps.every((stamp, i) => stamp === last[i])) return
    this.#last = stamps
    this.#offer(state)
  }

  /** A re-read when the nearest expiry among the entries passes (none when nothing expires). */
  #scheduleExpiry(expiresAt: number, now: number): void {
    clearTimeout(this.#expiryTimer)
    this.#expiryTimer = undefined
    if (expiresAt === Infinity) return
    const delay = Math.min(Math.max(expiresAt - now, 1), MAX_TIMER_MS)
    // The stream keeps the process alive by other means (the hub's handle): the timer alone never does.
    this.#expiryTimer = setTimeout(() => this.refresh(), delay).unref()
  }

  #retryLater(): void {
    clearTimeout(this.#retryTimer)
    const delay = this.#retryDelay
    this.#retryDelay = Math.min(delay * 2, WATCH_RETRY_MAX_MS)
    this.#retryTimer = setTimeout(() => this.refresh(), delay).unref()
  }

  #fail(error: unknown): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#expiryTimer)
    clearTimeout(this.#retryTimer)
    this.#controller.error(error)
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
    this.#onEnd(this)
  }
}
