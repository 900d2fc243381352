/** `db.atomic()`: a builder of checks and mutations committed together, all or nothing (SPEC §6). */
import type { AtomicCheck, KvCommitError, KvCommitResult, KvKey, KvMutation, KvSetOptions } from './types.js'
import type { CommitSource } from './commit.js'
import { expireInOf } from './expiry.js'
import type { KvU64 } from './u64.js'
import { checkEnqueue, type CheckedEnqueue, type KvEnqueueOptions } from './queue/message.js'

/** Runs a commit: validates it and applies it serializably. */
export type CommitExecutor = (
  checks: readonly AtomicCheck[],
  mutations: readonly KvMutation[],
  source: CommitSource,
  enqueues?: readonly CheckedEnqueue[],
) => Promise<KvCommitResult | KvCommitError>

/** Checks and mutations produced by deferred work. */
export interface DeferredWrites {
  checks: AtomicCheck[]
  mutations: KvMutation[]
}

/**
 * Work that `commit()` runs before committing (a collection's validation and index reads). `run` is a fresh object
 * per `commit()` call, shared by every deferred work of that call, so works can see each other's writes.
 */
export type DeferredWork = (run: object) => Promise<DeferredWrites>

/**
 * Collects checks and mutations; `commit()` validates them all before any I/O, then applies them in one
 * serializable transaction: checks first, then mutations in order.
 *
 * @example
 * const res = await db.atomic()
 *   .check({ key: ['balance'], versionstamp: entry.versionstamp })
 *   .set(['balance'], entry.value - 10)
 *   .commit()
 * if (!res.ok) console.log('someone else changed the balance')
 */
export class AtomicOperation {
  readonly #execute: CommitExecutor
  readonly #checks: AtomicCheck[] = []
  readonly #mutations: KvMutation[] = []
  /** Deferred works, each with the number of mutations added before it (its place in the order). */
  readonly #deferred: { at: number; work: DeferredWork }[] = []
  /** Whether `mutate()` added caller-made mutations, whose shape `commit()` then checks. */
  #raw = false
  /** Queue messages added by `enqueue()`, options already checked. */
  readonly #enqueues: CheckedEnqueue[] = []

  /** @internal */
  constructor(execute: CommitExecutor) {
    this.#execute = execute
  }

  /** Requires each key's current versionstamp to equal the given one (`null`: the key must not exist). */
  check(...checks: AtomicCheck[]): this {
    this.#checks.push(...checks)
    return this
  }

  /** Adds raw mutations. */
  mutate(...mutations: KvMutation[]): this {
    this.#raw = true
    this.#mutations.push(...mutations)
    return this
  }

  /** Sets a value; throws `TypeError` at once for options that are not an object or name an unknown option. */
  set(key: KvKey, value: unknown, options?: KvSetOptions): this {
    const expireIn = expireInOf(options) as number | undefined
    this.#mutations.push(expireIn === undefined ? { type: 'set', key, value } : { type: 'set', key, value, expireIn })
    return this
  }

  /** Deletes a key. */
  delete(key: KvKey): this {
    this.#mutations.push({ type: 'delete', key })
    return this
  }

  /** Adds to the KvU64 at key, modulo 2^64 (a missing key takes the operand; a negative bigint subtracts). */
  sum(key: KvKey, value: KvU64 | bigint): this {
    this.#mutations.push({ type: 'sum', key, value })
    return this
  }

  /** Keeps the smaller of the KvU64 at key and the operand (a missing key takes the operand). */
  min(key: KvKey, value: KvU64 | bigint): this {
    this.#mutations.push({ type: 'min', key, value })
    return this
  }

  /** Keeps the larger of the KvU64 at key and the operand (a missing key takes the operand). */
  max(key: KvKey, value: KvU64 | bigint): this {
    this.#mutations.push({ type: 'max', key, value })
    return this
  }

  /**
   * Adds a queue message, enqueued only if the commit succeeds (see `Valkeyrie.enqueue`). Throws `TypeError` /
   * `RangeError` at once for bad options; the value is encoded (and its size checked) at `commit()`.
   */
  enqueue(value: unknown, options?: KvEnqueueOptions): this {
    this.#enqueues.push(checkEnqueue(value, options))
    return this
  }

  /**
   * @internal Adds work that `commit()` runs first, one work after another in the order added. Its checks join the
   * commit's checks and its mutations take this place among the mutations; if any work rejects, `commit()` rejects
   * with that error and nothing is applied.
   */
  defer(work: DeferredWork): this {
    this.#deferred.push({ at: this.#mutations.length, work })
    return this
  }

  /** Commits: `{ ok: true, versionstamp }`, or `{ ok: false }` when a check failed (then nothing was applied). */
  commit(): Promise<KvCommitResult | KvCommitError> {
    if (this.#deferred.length === 0) return this.#execute(this.#checks, this.#mutations, this.#raw ? 'raw' : 'built', this.#enqueues)
    return this.#commitDeferred()
  }

  async #commitDeferred(): Promise<KvCommitResult | KvCommitError> {
    const run = {}
    const checks = [...this.#checks]
    const mutations: KvMutation[] = []
    let from = 0
    for (const { at, work } of this.#deferred) {
      mutations.push(...this.#mutations.slice(from, at))
      from = at
      const writes = await work(run)
      checks.push(...writes.checks)
      mutations.push(...writes.mutations)
    }
    mutations.push(...this.#mutations.slice(from))
    return this.#execute(checks, mutations, this.#raw ? 'raw' : 'built', this.#enqueues)
  }
}
