/**
 * Group commit: commits submitted in the same turn of the event loop are applied together in one write
 * transaction (one fsync), each with its own checks, versionstamp and result. A commit whose check fails or whose
 * mutation throws affects no other commit of its group; a storage failure fails the whole group, and then nothing
 * of it is applied. Every promise settles only after the transaction has committed.
 */
import { planCommit, writePlan, type PreparedCommit } from './commit.js'
import type { Storage } from './driver.js'
import { StorageError } from './errors.js'
import type { KvCommitError, KvCommitResult } from './types.js'
import { toVersionstamp } from './versionstamp.js'

interface Job {
  commit: PreparedCommit
  resolve: (result: KvCommitResult | KvCommitError) => void
  reject: (error: unknown) => void
}

type Outcome = { ok: true; result: KvCommitResult | KvCommitError } | { ok: false; error: unknown }

export class CommitQueue {
  readonly #storage: Storage
  readonly #clock: () => number
  #jobs: Job[] = []
  /** Keys found expired by reads, deleted with the next group (only if still expired then). */
  #expired = new Map<string, Buffer>()
  #scheduled = false

  constructor(storage: Storage, clock: () => number) {
    this.#storage = storage
    this.#clock = clock
  }

  /** Queues a commit; it runs with the others submitted in this turn. */
  submit(commit: PreparedCommit): Promise<KvCommitResult | KvCommitError> {
    return new Promise((resolve, reject) => {
      this.#jobs.push({ commit, resolve, reject })
      this.#schedule()
    })
  }

  /** Queues the deletion of a row a read found expired. */
  purgeFound(key: Buffer): void {
    this.#expired.set(key.toString('latin1'), key)
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => this.flush())
  }

  /** Applies everything queued now, in one transaction. */
  flush(): void {
    this.#scheduled = false
    const jobs = this.#jobs
    const expired = this.#expired
    if (jobs.length === 0 && expired.size === 0) return
    this.#jobs = []
    this.#expired = new Map()
    let outcomes: Outcome[]
    try {
      outcomes = this.#storage.transact((tx) => {
        const now = this.#clock()
        for (const key of expired.values()) tx.removeExpired(key, now)
        return jobs.map((job): Outcome => {
          let plan
          try {
            plan = planCommit(tx, job.commit, now)
          } catch (error) {
            // A caller mistake fails this commit alone (it wrote nothing); anything else aborts the group.
            if (error instanceof TypeError || error instanceof RangeError) return { ok: false, error }
            throw error
          }
          if (plan === null) return { ok: true, result: { ok: false } }
          return { ok: true, result: { ok: true, versionstamp: toVersionstamp(writePlan(tx, plan)) } }
        })
      })
    } catch (error) {
      const failure = new StorageError('commit', { cause: error })
      for (const job of jobs) job.reject(failure)
      return
    }
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job
      const outcome = outcomes[i] as Outcome
      if (outcome.ok) job.resolve(outcome.result)
      else job.reject(outcome.error)
    }
  }
}
