/**
 * Group commit: commits submitted while no group is being written (in practice: in the same turn of the event
 * loop, or while an asynchronous driver is still writing the previous group) are applied together in one write
 * transaction (one disk sync), each with its own checks, versionstamp and result. A commit whose check fails or
 * whose mutation throws affects no other commit of its group; a storage failure fails the whole group, and then
 * nothing of it is applied (or, with a CommitUnknownResultError for every job, all of it may be). Every promise
 * settles only after its transaction has committed. One group at a time, of at most MAX_GROUP_COMMITS commits and
 * MAX_GROUP_BYTES bytes: the rest forms the next group right after.
 *
 * Rows a read found expired are deleted with the next group, never by a write of their own: a read must not wait
 * for the write lock another process holds.
 */
import { planCommit, writePlan, type PreparedCommit, type PreparedSet } from './commit.js'
import { CommitUnknownResultError, CorruptValueError, StorageError } from './errors.js'
import { MAX_FOUND_EXPIRED_KEYS, MAX_GROUP_BYTES, MAX_GROUP_COMMITS } from './limits.js'
import type { Storage, WriteTransaction } from './storage/store.js'
import type { KvCommitError, KvCommitResult } from './types.js'
import { toVersionstamp } from './versionstamp.js'

interface Job {
  commit: PreparedCommit
  resolve: (result: KvCommitResult | KvCommitError) => void
  reject: (error: unknown) => void
}

type Outcome = { ok: true; result: KvCommitResult | KvCommitError } | { ok: false; error: unknown }

const NO_KEYS: Buffer[] = []

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => value instanceof Promise

/** Every key a group reads or writes: what an asynchronous store loads before running it. */
function* keysOf(jobs: readonly Job[], expired: Iterable<Buffer>): Generator<Buffer> {
  yield* expired
  for (const { commit } of jobs) {
    for (const check of commit.checks) yield check.key
    for (const mutation of commit.mutations) yield mutation.key
  }
}

/** The one set of a commit that is a plain set (no check, one set), which a store's `writeOne` may write. */
function plainSetOf(commit: PreparedCommit): PreparedSet | undefined {
  if (commit.checks.length !== 0 || commit.mutations.length !== 1 || commit.enqueues !== undefined) return undefined
  const mutation = commit.mutations[0] as PreparedCommit['mutations'][number]
  return mutation.type === 'set' ? mutation : undefined
}

export class CommitQueue {
  readonly #storage: Storage
  readonly #clock: () => number
  #jobs: Job[] = []
  /** Keys found expired by reads, deleted with the next group (only if still expired then). */
  #expired = new Map<string, Buffer>()
  #scheduled = false
  /** The group an asynchronous store is writing now. */
  #inFlight: Promise<void> | undefined
  /** Told the keys each group wrote, once it committed (set while watch streams are open). */
  onCommitted: ((keys: Buffer[]) => void) | undefined

  constructor(storage: Storage, clock: () => number) {
    this.#storage = storage
    this.#clock = clock
  }

  /** Queues a commit; it runs with the others submitted before the next group starts. */
  submit(commit: PreparedCommit): Promise<KvCommitResult | KvCommitError> {
    return new Promise((resolve, reject) => {
      this.#jobs.push({ commit, resolve, reject })
      this.#schedule()
    })
  }

  /**
   * Notes a row a read found expired, to delete with the next group. Past MAX_FOUND_EXPIRED_KEYS the row is left to
   * the sweep, so reads without writes cannot grow memory.
   */
  purgeFound(key: Buffer): void {
    if (this.#expired.size < MAX_FOUND_EXPIRED_KEYS) this.#expired.set(key.toString('latin1'), key)
  }

  /** Forgets the rows reads found expired: a sweep deleting every expired row is about to delete them. */
  forgetFound(): void {
    if (this.#expired.size > 0) this.#expired = new Map()
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return
    this.#scheduled = true
    queueMicrotask(() => this.#flush())
  }

  /** Writes every queued commit, then waits for the store; resolves when no commit is queued or in flight. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.#inFlight) await this.#inFlight
      else if (this.#jobs.length > 0) this.#flush()
      else return
    }
  }

  /** The next group: the queued jobs up to the count and byte bounds (the first job always fits). */
  #takeGroup(): Job[] {
    const queued = this.#jobs
    let count = 0
    let bytes = 0
    while (count < queued.length && count < MAX_GROUP_COMMITS) {
      bytes += (queued[count] as Job).commit.bytes
      if (count > 0 && bytes > MAX_GROUP_BYTES) break
      count++
    }
    if (count === queued.length) {
      this.#jobs = []
      return queued
    }
    return queued.splice(0, count)
  }

  #flush(): void {
    this.#scheduled = false
    if (this.#inFlight || this.#jobs.length === 0) return
    const jobs = this.#takeGroup()
    let expired: Buffer[] = NO_KEYS
    if (this.#expired.size > 0) {
      expired = [...this.#expired.values()]
      this.#expired = new Map()
    }
    let outcomes: Outcome[] | Promise<Outcome[]>
    try {
      const single = jobs.length === 1 && expired === NO_KEYS ? plainSetOf((jobs[0] as Job).commit) : undefined
      outcomes =
        single !== undefined && this.#storage.writeOne !== undefined
          ? this.#writeOne(this.#storage.writeOne(single))
          : this.#storage.transact(
              () => keysOf(jobs, expired),
              (tx) => this.#apply(tx, jobs, expired),
            )
    } catch (error) {
      this.#fail(jobs, error)
      if (this.#jobs.length > 0) this.#schedule()
      return
    }
    if (!isPromise(outcomes)) {
      this.#settle(jobs, outcomes)
      if (this.#jobs.length > 0) this.#schedule()
      return
    }
    this.#inFlight = outcomes.then(
      (done) => this.#settle(jobs, done),
      (error: unknown) => this.#fail(jobs, error),
    )
    void this.#inFlight.finally(() => {
      this.#inFlight = undefined
      if (this.#jobs.length > 0) this.#schedule()
    })
  }

  /** The outcome of a group of one plain set written by the store's `writeOne`. */
  #writeOne(version: number | Promise<number>): Outcome[] | Promise<Outcome[]> {
    const done = (v: number): Outcome[] => [{ ok: true, result: { ok: true, versionstamp: toVersionstamp(v) } }]
    return isPromise(version) ? version.then(done) : done(version)
  }

  #apply(tx: WriteTransaction, jobs: readonly Job[], expired: readonly Buffer[]): Outcome[] {
    const now = this.#clock()
    for (const key of expired) tx.removeExpired(key, now)
    return jobs.map((job): Outcome => {
      let plan
      try {
        plan = planCommit(tx, job.commit, now)
      } catch (error) {
        // A caller mistake or a corrupt counter fails this commit alone (it wrote nothing); anything else aborts
        // the group.
        if (error instanceof TypeError || error instanceof RangeError || error instanceof CorruptValueError) {
          return { ok: false, error }
        }
        throw error
      }
      if (plan === null) return { ok: true, result: { ok: false } }
      return { ok: true, result: { ok: true, versionstamp: toVersionstamp(writePlan(tx, plan, job.commit.enqueues)) } }
    })
  }

  #settle(jobs: readonly Job[], outcomes: readonly Outcome[]): void {
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job
      const outcome = outcomes[i] as Outcome
      if (outcome.ok) job.resolve(outcome.result)
      else job.reject(outcome.error)
    }
    if (this.onCommitted) {
      this.#announce(jobs.filter((_, i) => {
        const outcome = outcomes[i] as Outcome
        return outcome.ok && outcome.result.ok
      }))
    }
  }

  /** Tells `onCommitted` the keys the jobs wrote. */
  #announce(jobs: readonly Job[]): void {
    const keys: Buffer[] = []
    for (const { commit } of jobs) for (const mutation of commit.mutations) keys.push(mutation.key)
    if (keys.length > 0) this.onCommitted?.(keys)
  }

  #fail(jobs: readonly Job[], error: unknown): void {
    // The storage tells an uncertain outcome apart; every other failure applied nothing.
    const failure = error instanceof CommitUnknownResultError ? error : new StorageError('commit', { cause: error })
    for (const job of jobs) job.reject(failure)
    // Perhaps committed: the keys are re-read.
    if (this.onCommitted && failure instanceof CommitUnknownResultError) this.#announce(jobs)
  }
}
