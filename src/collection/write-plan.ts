/**
 * Planning a collection's writes: what a `set` or `delete` reads (the old record, unique index entries, the record
 * holding a unique value) and the checks and mutations that make the write and its index entries commit together.
 *
 * Every key read from the database gets a check on the versionstamp read, so the commit fails (and a standalone
 * write retries) if any of it changed in between: two writers of one unique value cannot both win.
 */
import type { Valkeyrie } from '../valkeyrie.js'
import { UniqueConstraintError } from '../errors.js'
import { encodeKey } from '../key/codec.js'
import { assertKeySize } from '../key/range.js'
import { MAX_GET_MANY_KEYS } from '../limits.js'
import type { AtomicCheck, KvKey, KvKeyPart, KvMutation } from '../types.js'
import type { DeferredWrites } from '../atomic.js'
import { storedIndexValue, type Index } from './indexes.js'
import { samePart, sameParts, type KeyLayout } from './layout.js'

type Found = { exists: false } | { exists: true; value: unknown }

/** What a write needs to know about its collection. */
export interface WriteTarget {
  readonly db: Valkeyrie
  readonly layout: KeyLayout
  readonly indexes: readonly Index[]
}

const runs = new WeakMap<object, CommitRun>()

/**
 * The state of one `commit()` shared by every collection write in it: what was read (and checked), and what earlier
 * writes of the same commit planned, so a later write reads those instead of the database (a delete then a set of
 * the same unique value in one commit works, and two sets of it in one commit conflict).
 */
export class CommitRun {
  readonly #db: Valkeyrie
  readonly #known = new Map<string, Found>()
  #checks: AtomicCheck[] = []
  #mutations: KvMutation[] = []

  private constructor(db: Valkeyrie) {
    this.#db = db
  }

  /** The run of a commit (`run` is the object `AtomicOperation` gives its deferred works). */
  static of(run: object, db: Valkeyrie): CommitRun {
    let state = runs.get(run)
    if (!state) {
      state = new CommitRun(db)
      runs.set(run, state)
    }
    return state
  }

  /** Reads keys: a write planned earlier in this commit, else the database (checking the versionstamp read). */
  async read(keys: readonly KvKey[]): Promise<Found[]> {
    const missing = new Map<string, KvKey>()
    for (const key of keys) {
      const id = keyId(key)
      if (!this.#known.has(id)) missing.set(id, key)
    }
    const pending = [...missing]
    for (let i = 0; i < pending.length; i += MAX_GET_MANY_KEYS) {
      const chunk = pending.slice(i, i + MAX_GET_MANY_KEYS)
      const entries = await this.#db.getMany(chunk.map(([, key]) => key))
      chunk.forEach(([id, key], j) => {
        const entry = entries[j]
        const versionstamp = entry?.versionstamp ?? null
        this.#known.set(id, versionstamp === null ? { exists: false } : { exists: true, value: entry?.value })
        this.#checks.push({ key, versionstamp })
      })
    }
    return keys.map((key) => this.#known.get(keyId(key)) as Found)
  }

  set(key: KvKey, value: unknown, expireIn: number | undefined): void {
    this.#known.set(keyId(key), { exists: true, value })
    this.#mutations.push(expireIn === undefined ? { type: 'set', key, value } : { type: 'set', key, value, expireIn })
  }

  delete(key: KvKey): void {
    this.#known.set(keyId(key), { exists: false })
    this.#mutations.push({ type: 'delete', key })
  }

  /** The checks and mutations planned since the last call. */
  take(): DeferredWrites {
    const writes = { checks: this.#checks, mutations: this.#mutations }
    this.#checks = []
    this.#mutations = []
    return writes
  }
}

const keyId = (key: KvKey): string => encodeKey(key).toString('latin1')

/**
 * Plans setting the record `parts` to `value` (already the schema's output) with its index entries. Throws
 * `UniqueConstraintError` when another record holds one of its unique values.
 */
export async function planSet(
  run: CommitRun,
  target: WriteTarget,
  parts: readonly KvKeyPart[],
  value: unknown,
  expireIn: number | undefined,
): Promise<void> {
  const { layout, indexes } = target
  const key = layout.recordKey(parts)
  if (indexes.length === 0) return run.set(key, value, expireIn)
  const next = indexes.map((index) => index.compute(value))
  assertWritable(layout, key, parts, indexes, next)
  const [old] = await run.read([key])
  const previous = indexes.map((index) => (old?.exists ? storedIndexValue(index, old.value) : undefined))

  // Unique entries this record takes, and the ones it gives up.
  const claims: { index: Index; value: KvKeyPart; key: KvKey }[] = []
  const releases: KvKey[] = []
  indexes.forEach((index, i) => {
    const now = next[i]
    const before = previous[i]
    if (!index.unique) return
    if (now !== undefined) claims.push({ index, value: now, key: layout.uniqueKey(index.name, now) })
    if (before !== undefined && !samePart(before, now)) releases.push(layout.uniqueKey(index.name, before))
  })
  const claimed = await run.read(claims.map((claim) => claim.key))
  // An entry naming another record is a violation only while that record still has the value; otherwise it is
  // stale (left by a record written before the index, or by plain writes to the record's key) and is taken over.
  const holders = claims.map((_, i) => {
    const found = claimed[i]
    const holder = found?.exists ? layout.storedIdParts(found.value) : undefined
    return holder && !sameParts(holder, parts) ? layout.recordKey(holder) : undefined
  })
  const holderRecords = await run.read(holders.filter((holder) => holder !== undefined))
  let h = 0
  claims.forEach((claim, i) => {
    const holder = holders[i]
    if (!holder) return
    const record = holderRecords[h++]
    if (record?.exists && samePart(storedIndexValue(claim.index, record.value), claim.value)) {
      throw new UniqueConstraintError(key, claim.index.name, claim.value, holder)
    }
  })
  const released = await run.read(releases)

  run.set(key, value, expireIn)
  indexes.forEach((index, i) => {
    if (index.unique) return
    const now = next[i]
    const before = previous[i]
    if (before !== undefined && !samePart(before, now)) run.delete(layout.entryKey(index.name, before, parts))
    if (now !== undefined) run.set(layout.entryKey(index.name, now, parts), null, expireIn)
  })
  releases.forEach((entryKey, i) => {
    if (namesRecord(released[i], layout, parts)) run.delete(entryKey)
  })
  for (const claim of claims) run.set(claim.key, [...parts], expireIn)
}

/**
 * Throws the write path's `RangeError` for a record or index entry key over the limit, before the plan reads
 * anything: the reads would otherwise fail first, with the read path's message and no index named.
 */
function assertWritable(
  layout: KeyLayout,
  key: KvKey,
  parts: readonly KvKeyPart[],
  indexes: readonly Index[],
  values: readonly (KvKeyPart | undefined)[],
): void {
  assertKeySize(encodeKey(key), 'write')
  indexes.forEach((index, i) => {
    const value = values[i]
    if (value === undefined) return
    const entry = index.unique ? layout.uniqueKey(index.name, value) : layout.entryKey(index.name, value, parts)
    assertKeySize(encodeKey(entry), 'write', ` in index ${index.name}`)
  })
}

/** Plans deleting the record `parts` and its index entries. */
export async function planDelete(run: CommitRun, target: WriteTarget, parts: readonly KvKeyPart[]): Promise<void> {
  const { layout, indexes } = target
  const key = layout.recordKey(parts)
  if (indexes.length > 0) {
    assertKeySize(encodeKey(key), 'write')
    const [old] = await run.read([key])
    if (old?.exists) {
      const previous = indexes.map((index) => storedIndexValue(index, old.value))
      const releases: KvKey[] = []
      indexes.forEach((index, i) => {
        const before = previous[i]
        if (before === undefined) return
        if (index.unique) releases.push(layout.uniqueKey(index.name, before))
        else run.delete(layout.entryKey(index.name, before, parts))
      })
      const released = await run.read(releases)
      releases.forEach((entryKey, i) => {
        if (namesRecord(released[i], layout, parts)) run.delete(entryKey)
      })
    }
  }
  run.delete(key)
}

/** Whether a unique index entry names the record `parts` (an entry naming another record is left alone). */
function namesRecord(found: Found | undefined, layout: KeyLayout, parts: readonly KvKeyPart[]): boolean {
  if (!found?.exists) return false
  const holder = layout.storedIdParts(found.value)
  return holder !== undefined && sameParts(holder, parts)
}
