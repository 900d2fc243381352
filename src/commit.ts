/**
 * One atomic commit (SPEC §6): validating and encoding its checks and mutations before any I/O (`prepareCommit`),
 * then applying them inside a write transaction (`applyCommit`): checks first, then mutations in order, all or
 * nothing.
 */
import type { KvRow, WriteTransaction } from './store.js'
import { describeValue } from './errors.js'
import { expiresAtFor, isLive } from './expiry.js'
import { encodeKey } from './key/codec.js'
import { assertKeySize } from './key/range.js'
import { MAX_CHECKS, MAX_MUTATIONS, MAX_TOTAL_KEY_BYTES, MAX_TOTAL_MUTATION_BYTES, MAX_U64 } from './limits.js'
import type { Serializer } from './serializers/serializer.js'
import type { AtomicCheck, KvMutation } from './types.js'
import { KvU64 } from './u64.js'
import { decodeU64, encodeU64, encodeValue, U64 } from './value.js'
import { assertCheckVersionstamp, toVersionstamp } from './versionstamp.js'

export interface PreparedCheck {
  key: Buffer
  versionstamp: string | null
}

/** A set, already the row it writes (its version is stamped when the commit is written). */
export type PreparedSet = KvRow & { type: 'set' }
export type PreparedDelete = { type: 'delete'; key: Buffer }
export type PreparedMutation = PreparedSet | PreparedDelete | { type: 'sum' | 'min' | 'max'; key: Buffer; operand: bigint }

export interface PreparedCommit {
  checks: PreparedCheck[]
  mutations: PreparedMutation[]
}

const MUTATION_TYPES = new Set(['set', 'delete', 'sum', 'min', 'max'])
const TWO_64 = 1n << 64n

/** Encodes the key of check or mutation `index`; the message naming it is built only when the key is bad. */
function writeKey(key: unknown, owner: 'check' | 'mutation', index: number): Buffer {
  const bytes = Array.isArray(key) && key.length > 0 ? encodeKey(key) : encodeKey(key as never, { what: `${owner} ${index} key` })
  assertKeySize(bytes, 'write')
  return bytes
}

/** The u64 operand of sum/min/max. A bare bigint may be negative for `sum` (it wraps: -1n decrements). */
function toOperand(type: 'sum' | 'min' | 'max', value: unknown): bigint {
  if (value instanceof KvU64) return value.value
  if (typeof value !== 'bigint') {
    throw new TypeError(`${type} operand must be a KvU64 or a bigint: received ${describeValue(value)}`)
  }
  const lowest = type === 'sum' ? -MAX_U64 : 0n
  if (value < lowest || value > MAX_U64) {
    throw new RangeError(
      `${type} operand must be between ${type === 'sum' ? '-(2^64-1)' : '0'} and 2^64-1: received ${value}n`,
    )
  }
  // A negative sum operand subtracts: adding 2^64 - |value| is the same modulo 2^64.
  return value < 0n ? value + TWO_64 : value
}

/** Validates and encodes a commit. Throws `TypeError` / `RangeError`; touches no storage. */
export function prepareCommit(
  checks: readonly AtomicCheck[],
  mutations: readonly KvMutation[],
  serializer: Serializer,
  now: number,
): PreparedCommit {
  if (checks.length > MAX_CHECKS) throw new RangeError(`Too many checks (max ${MAX_CHECKS}): received ${checks.length}`)
  if (mutations.length > MAX_MUTATIONS) {
    throw new RangeError(`Too many mutations (max ${MAX_MUTATIONS}): received ${mutations.length}`)
  }
  let keyBytes = 0
  let totalBytes = 0
  const preparedChecks = checks.map((check, i): PreparedCheck => {
    if (typeof check !== 'object' || check === null) {
      throw new TypeError(`check ${i} must be an object with key and versionstamp: received ${describeValue(check)}`)
    }
    const key = writeKey(check.key, 'check', i)
    assertCheckVersionstamp(check.versionstamp)
    keyBytes += key.length
    totalBytes += key.length
    return { key, versionstamp: check.versionstamp }
  })
  const preparedMutations = mutations.map((mutation, i): PreparedMutation => {
    if (typeof mutation !== 'object' || mutation === null) {
      throw new TypeError(`mutation ${i} must be an object: received ${describeValue(mutation)}`)
    }
    const type = mutation.type
    if (!MUTATION_TYPES.has(type)) {
      throw new TypeError(`mutation ${i} type must be set, delete, sum, min or max: received ${describeValue(type)}`)
    }
    const key = writeKey(mutation.key, 'mutation', i)
    keyBytes += key.length
    totalBytes += key.length
    switch (mutation.type) {
      case 'set': {
        const expiresAt = expiresAtFor(mutation.expireIn, now)
        const { bytes, encoding } = encodeValue(mutation.value, serializer)
        totalBytes += bytes.length
        return { type: 'set', key, value: bytes, encoding, version: 0, expiresAt }
      }
      case 'delete':
        return { type: 'delete', key }
      default: {
        const operand = toOperand(mutation.type, mutation.value)
        totalBytes += 8
        return { type: mutation.type, key, operand }
      }
    }
  })
  if (keyBytes > MAX_TOTAL_KEY_BYTES) {
    throw new RangeError(`Total key size too large (max ${MAX_TOTAL_KEY_BYTES} bytes): received ${keyBytes}`)
  }
  if (totalBytes > MAX_TOTAL_MUTATION_BYTES) {
    throw new RangeError(`Total mutation size too large (max ${MAX_TOTAL_MUTATION_BYTES} bytes): received ${totalBytes}`)
  }
  return { checks: preparedChecks, mutations: preparedMutations }
}

function applyU64(type: 'sum' | 'min' | 'max', current: bigint | undefined, operand: bigint): bigint {
  if (current === undefined) return operand
  if (type === 'sum') return (current + operand) % TWO_64
  if (type === 'min') return current < operand ? current : operand
  return current > operand ? current : operand
}

/**
 * The writes of a commit in mutation order: rows to write and keys to delete; a later write of a key replaces an
 * earlier one. The prepared mutations are the plan's entries themselves, so planning a set allocates nothing.
 */
export type CommitPlan = (PreparedSet | PreparedDelete)[]

const liveRow = (row: KvRow | undefined, now: number): KvRow | undefined => (row && isLive(row, now) ? row : undefined)

/** The row a plan leaves at `key` so far: its latest planned write, else the stored live row. */
function currentRow(tx: WriteTransaction, plan: CommitPlan, key: Buffer, now: number): KvRow | undefined {
  for (let i = plan.length - 1; i >= 0; i--) {
    const write = plan[i] as CommitPlan[number]
    if (write.key.equals(key)) return write.type === 'set' ? write : undefined
  }
  return liveRow(tx.read(key), now)
}

/**
 * Reads what a prepared commit needs inside a write transaction and computes its writes, writing nothing.
 * Returns null when a check fails; throws `TypeError` when a mutation cannot apply (sum on a non-KvU64).
 */
export function planCommit(tx: WriteTransaction, commit: PreparedCommit, now: number): CommitPlan | null {
  for (const check of commit.checks) {
    const row = liveRow(tx.read(check.key), now)
    const current = row ? toVersionstamp(row.version) : null
    if (current !== check.versionstamp) return null
  }
  const plan: CommitPlan = []
  for (const m of commit.mutations) {
    if (m.type === 'set' || m.type === 'delete') {
      plan.push(m)
      continue
    }
    // Later mutations see earlier ones of the same commit.
    const row = currentRow(tx, plan, m.key, now)
    if (row && row.encoding !== U64) {
      throw new TypeError(`${m.type} needs a KvU64 at its key, but the stored value is not a KvU64`)
    }
    const result = applyU64(m.type, row ? decodeU64(row.value) : undefined, m.operand)
    plan.push({ type: 'set', key: m.key, value: encodeU64(result), encoding: U64, version: 0, expiresAt: null })
  }
  return plan
}

/** Writes a plan under a new commit version and returns that version. */
export function writePlan(tx: WriteTransaction, plan: CommitPlan): number {
  const version = tx.nextVersion()
  for (const write of plan) {
    if (write.type === 'set') {
      // The plan's rows belong to this commit alone: stamping them in place saves a copy per write.
      write.version = version
      tx.write(write)
    } else {
      tx.remove(write.key)
    }
  }
  return version
}
