/**
 * A queue listener (`db.listenQueue`): claims due messages under a lease, runs the handler on each (up to
 * MAX_QUEUE_IN_FLIGHT at once), renews the leases while handlers run, acks delivered messages in batches, and on a
 * failure retries after the next backoff step or, with no step left, dead-letters the message. It wakes on this
 * instance's enqueues (`wake`), on a timer for the next due message, on the store's reports of other processes'
 * commits (`watchChanges`, when the store has it), and on a safety poll that backs off while nothing comes.
 */
import { randomUUID } from 'node:crypto'
import {
  MAX_QUEUE_IN_FLIGHT,
  MAX_TIMER_MS,
  QUEUE_CLAIM_BATCH,
  QUEUE_CLOSE_WAIT_MS,
  QUEUE_KEEPALIVE_MS,
  QUEUE_LEASE_MS,
  QUEUE_POLL_MAX_MS,
  QUEUE_POLL_MIN_MS,
  QUEUE_POLL_WATCHED_MAX_MS,
} from '../limits.js'
import type { ClaimedMessage, QueueStore } from '../storage/store.js'

/** What a listener needs from its database. */
export interface ListenerDeps {
  queue: QueueStore
  clock: () => number
  /** The message's value, decoded (throws on a corrupt one: that delivery fails). */
  decode: (message: ClaimedMessage) => unknown
  /** Writes the value to every key of `keysIfUndelivered` in one commit. */
  deadLetter: (message: ClaimedMessage) => Promise<void>
  /** The store's report of commits made elsewhere, when it has one. */
  watchChanges?: ((onChange: () => void) => () => void) | undefined
}

/** Options of `listenQueue`. */
export interface ListenQueueOptions {
  /**
   * Called when a handler throws or rejects (the message is then retried after its next backoff step, or
   * dead-lettered), or when the queue cannot be read or written (the listener tries again later). Default: logs
   * the error with `console.error`, as Deno does.
   */
  onError?: (error: unknown) => void
}

const defaultOnError = (error: unknown): void => console.error('Exception in queue handler', error)

export class QueueListener {
  readonly #deps: ListenerDeps
  readonly #handler: (value: unknown) => unknown
  readonly #onError: (error: unknown) => void
  readonly #token = randomUUID()
  /** Messages whose handler runs, by id, with the promise of their end. */
  readonly #running = new Map<string, { message: ClaimedMessage; done: Promise<void> }>()
  /** Messages `stop` returned to the queue while their handler still ran: theirs is no longer to retry. */
  readonly #handedBack = new WeakSet<ClaimedMessage>()
  /** Ids handled, waiting for the next batched ack. */
  #acks: string[] = []
  #ackScheduled = false
  #acking: Promise<void> = Promise.resolve()
  #pumping = false
  #again = false
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #keepalive: NodeJS.Timeout | undefined
  #poll = QUEUE_POLL_MIN_MS
  readonly #pollMax: number
  #unwatch: (() => void) | undefined
  #resolveEnded!: () => void
  /** Settles once the listener has stopped. */
  readonly ended: Promise<void>

  constructor(deps: ListenerDeps, handler: (value: unknown) => unknown, options: ListenQueueOptions = {}) {
    this.#deps = deps
    this.#handler = handler
    this.#onError = options.onError ?? defaultOnError
    this.#pollMax = deps.watchChanges ? QUEUE_POLL_WATCHED_MAX_MS : QUEUE_POLL_MAX_MS
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve))
    this.#unwatch = deps.watchChanges?.(() => this.wake())
    this.wake()
  }

  /** Looks for due messages now (an enqueue was committed, or another process may have made one). */
  wake(): void {
    if (this.#stopped) return
    this.#poll = QUEUE_POLL_MIN_MS
    if (this.#pumping) {
      this.#again = true
      return
    }
    void this.#pump()
  }

  #report(error: unknown): void {
    try {
      this.#onError(error)
    } catch {
      // An onError that throws must not stop the listener.
    }
  }

  async #pump(): Promise<void> {
    this.#pumping = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    let claimedAny = false
    /** The next due time, when the last look found nothing due yet (no second read needed). */
    let peeked: number | null | undefined
    try {
      do {
        this.#again = false
        // A read first: a claim is a write transaction, too dear for every poll of an idle queue.
        const due = await this.#deps.queue.nextDue()
        peeked = undefined
        if (due === null || due > this.#deps.clock()) {
          peeked = due
          continue
        }
        for (;;) {
          if (this.#stopped) return
          const free = MAX_QUEUE_IN_FLIGHT - this.#running.size
          if (free <= 0) break
          const limit = Math.min(free, QUEUE_CLAIM_BATCH)
          const now = this.#deps.clock()
          const claimed = await this.#deps.queue.claim(now, limit, this.#token, now + QUEUE_LEASE_MS)
          if (this.#stopped) {
            // Stopped while claiming: the messages go back to the queue, ready now, without a delivery.
            for (const message of claimed) {
              await this.#deps.queue.retry(message.id, this.#token, this.#deps.clock(), message.backoffSchedule)
            }
            return
          }
          if (claimed.length > 0) claimedAny = true
          for (const message of claimed) this.#start(message)
          if (claimed.length < limit) break
        }
      } while (this.#again && !this.#stopped)
      if (this.#stopped) return
      const next = peeked !== undefined ? peeked : await this.#deps.queue.nextDue()
      this.#schedule(next, claimedAny)
    } catch (error) {
      this.#report(error)
      this.#schedule(null, false)
    } finally {
      this.#pumping = false
      if (this.#again && !this.#stopped) this.wake()
    }
  }

  /** Sets the timer: at the next due message, or at the safety poll (which doubles while nothing comes). */
  #schedule(next: number | null, claimedAny: boolean): void {
    if (this.#stopped) return
    if (claimedAny) this.#poll = QUEUE_POLL_MIN_MS
    else this.#poll = Math.min(this.#poll * 2, this.#pollMax)
    let wait = this.#poll
    if (next !== null) wait = Math.min(wait, Math.max(0, next - this.#deps.clock()))
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (!this.#pumping) void this.#pump()
      else this.#again = true
    }, Math.min(wait, MAX_TIMER_MS))
  }

  #start(message: ClaimedMessage): void {
    if (message.expired) {
      // Its last consumer's lease ran out: that delivery failed.
      const done = this.#fail(message).finally(() => this.#finish(message.id))
      this.#running.set(message.id, { message, done })
      return
    }
    const done = (async () => {
      try {
        await this.#handler(this.#deps.decode(message))
      } catch (error) {
        this.#report(error)
        if (!this.#handedBack.has(message)) await this.#fail(message)
        return
      }
      // A message handed back at close, whose handler ended after all, is the queue's again: no ack.
      if (this.#handedBack.has(message)) return
      this.#acks.push(message.id)
      this.#scheduleAck()
    })()
      .catch((error: unknown) => this.#report(error))
      .finally(() => this.#finish(message.id))
    this.#running.set(message.id, { message, done })
    this.#keepAlive()
  }

  #finish(id: string): void {
    this.#running.delete(id)
    if (this.#running.size === 0 && this.#keepalive) {
      clearInterval(this.#keepalive)
      this.#keepalive = undefined
    }
    if (!this.#stopped && this.#running.size === MAX_QUEUE_IN_FLIGHT - 1) this.wake()
  }

  /** Retries a failed message after its next backoff step, or dead-letters it when none is left. */
  async #fail(message: ClaimedMessage): Promise<void> {
    try {
      const [step, ...rest] = message.backoffSchedule
      if (step !== undefined) {
        await this.#deps.queue.retry(message.id, this.#token, this.#deps.clock() + step, rest)
        // The timer may be far off: look again when the retry is due.
        if (!this.#stopped) this.#schedule(this.#deps.clock() + step, true)
        return
      }
      await this.#deps.deadLetter(message)
      await this.#deps.queue.ack([message.id], this.#token)
    } catch (error) {
      // The lease runs out and the message comes back.
      this.#report(error)
    }
  }

  #keepAlive(): void {
    if (this.#keepalive) return
    this.#keepalive = setInterval(() => {
      const ids = [...this.#running.keys()]
      const now = this.#deps.clock()
      Promise.resolve()
        .then(() => this.#deps.queue.extend(ids, this.#token, now + QUEUE_LEASE_MS))
        .catch((error: unknown) => this.#report(error))
    }, QUEUE_KEEPALIVE_MS)
    this.#keepalive.unref()
  }

  #scheduleAck(): void {
    if (this.#ackScheduled) return
    this.#ackScheduled = true
    setImmediate(() => {
      this.#ackScheduled = false
      void this.#flushAcks()
    })
  }

  /** Acks the handled messages in one call (after any ack already under way). */
  #flushAcks(): Promise<void> {
    const ids = this.#acks
    if (ids.length === 0) return this.#acking
    this.#acks = []
    this.#acking = this.#acking
      .then(() => this.#deps.queue.ack(ids, this.#token))
      .catch((error: unknown) => this.#report(error))
    return this.#acking
  }

  /**
   * Stops claiming, waits up to QUEUE_CLOSE_WAIT_MS for the running handlers, returns the messages of those still
   * running to the queue (ready now, their backoff untouched), acks the rest, and ends the listener.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return this.ended
    this.#stopped = true
    this.#unwatch?.()
    this.#unwatch = undefined
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#pumping) await new Promise((resolve) => setImmediate(resolve))
    if (this.#running.size > 0) {
      let timeout: NodeJS.Timeout | undefined
      const waited = new Promise<void>((resolve) => (timeout = setTimeout(resolve, QUEUE_CLOSE_WAIT_MS)))
      await Promise.race([Promise.all([...this.#running.values()].map((r) => r.done)), waited])
      clearTimeout(timeout)
    }
    clearInterval(this.#keepalive)
    this.#keepalive = undefined
    const left = [...this.#running.values()].map((r) => r.message)
    for (const message of left) this.#handedBack.add(message)
    this.#running.clear()
    try {
      for (const message of left) await this.#deps.queue.retry(message.id, this.#token, this.#deps.clock(), message.backoffSchedule)
    } catch (error) {
      this.#report(error)
    }
    await this.#flushAcks()
    this.#resolveEnded()
  }
}
