/**
 * One atomic commit (SPEC §6): validating and encoding its checks and mutations before any I/O (`prepareCommit`),
 * then applying them inside a write transaction (`applyCommit`): checks first, then mutations in order, all or
 * nothing.
 */
import type { KvRow, QueueMessage, WriteTransaction } from './storage/store.js'
import { CorruptValueError, describeValue, formatKey } from './errors.js'
import { expiresAtFor, isLive } from './expiry.js'
import { decodeKey, encodeKey } from './key/codec.js'
import { assertKeySize } from './key/range.js'
import { MAX_CHECKS, MAX_MUTATIONS, MAX_TOTAL_KEY_BYTES, MAX_TOTAL_MUTATION_BYTES, MAX_U64 } from './limits.js'
import type { Serializer } from './serializers/serializer.js'
import type { AtomicCheck, KvKey, KvMutation } from './types.js'
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
  /** Bytes of keys and values: the commit's share of a group's size. */
  bytes: number
  /** Queue messages the commit adds (`atomic().enqueue`, `db.enqueue`), if any. */
  enqueues?: QueueMessage[]
}

/**
 * Where a commit comes from, which decides how it is checked and how its errors read: `'plain'` is the one mutation
 * of `db.set`/`db.delete` (errors name the key alone), `'built'` comes from the `atomic()` builder (the shape of each
 * mutation is already right), `'raw'` holds caller-made objects (`mutate()`, `executeAtomicOperation`), whose shape
 * is checked property by property.
 */
export type CommitSource = 'plain' | 'built' | 'raw'

const MUTATION_TYPES = new Set(['set', 'delete', 'sum', 'min', 'max'])
const TWO_64 = 1n << 64n
/** Longest key shown in an error message before it is cut. */
const SHOWN_KEY_CHARS = 60

function showKey(key: KvKey): string {
  let shown: string
  try {
    shown = formatKey(key)
  } catch {
    return ''
  }
  return shown.length > SHOWN_KEY_CHARS ? `${shown.slice(0, SHOWN_KEY_CHARS - 2)}…]` : shown
}

/**
 * The error of check or mutation `index`, its message led by where it happened (`mutation 2 (set ["a"]): …`).
 * Only caller mistakes are renamed; `key` is shown once it has been encoded (an unencodable key is the error).
 */
function located(error: unknown, owner: 'check' | 'mutation', index: number, type: unknown, key: KvKey | undefined): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error
  const where = [MUTATION_TYPES.has(type as string) ? type : '', key ? showKey(key) : ''].filter(Boolean).join(' ')
  const message = `${owner} ${index}${where ? ` (${where})` : ''}: ${error.message}`
  return error instanceof RangeError ? new RangeError(message, { cause: error }) : new TypeError(message, { cause: error })
}

/** Throws `TypeError` unless a caller-made mutation has exactly the properties its type takes. */
function assertMutationShape(mutation: object, type: KvMutation['type']): void {
  for (const name in mutation) {
    if (name !== 'key' && name !== 'type' && name !== 'value' && name !== 'expireIn') {
      throw new TypeError(`unknown mutation property ${JSON.stringify(name)}`)
    }
  }
  const { value, expireIn } = mutation as { value?: unknown; expireIn?: unknown }
  if (type === 'delete') {
    if (value !== undefined) throw new TypeError(`a delete mutation takes no value: received ${describeValue(value)}`)
  } else if (!Object.hasOwn(mutation, 'value')) {
    // `value: undefined` given explicitly is a value to store; a missing property is a mistake.
    throw new TypeError(`a ${type} mutation needs a value property`)
  }
  if (type !== 'set' && expireIn !== undefined) {
    throw new TypeError(`expireIn applies to set mutations only: received ${describeValue(expireIn)}`)
  }
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

function prepareCheck(check: unknown, index: number): PreparedCheck {
  let key: KvKey | undefined
  try {
    if (typeof check !== 'object' || check === null) {
      throw new TypeError(`a check must be an object with key and versionstamp: received ${describeValue(check)}`)
    }
    const { key: parts, versionstamp } = check as AtomicCheck
    const bytes = encodeKey(parts)
    key = parts
    assertKeySize(bytes, 'write')
    // Other properties are ignored: Deno code passes the entry `get` returned (`check(entry)`), value and all.
    if (!Object.hasOwn(check, 'versionstamp')) {
      throw new TypeError('a check needs a versionstamp property (null: the key must not exist)')
    }
    assertCheckVersionstamp(versionstamp)
    return { key: bytes, versionstamp }
  } catch (error) {
    throw located(error, 'check', index, undefined, key)
  }
}

/** Throws `TypeError` unless `mutation` is an object with a known type. */
function assertMutation(mutation: unknown): asserts mutation is KvMutation {
  if (typeof mutation !== 'object' || mutation === null) {
    throw new TypeError(`a mutation must be an object: received ${describeValue(mutation)}`)
  }
  const type = (mutation as KvMutation).type
  if (!MUTATION_TYPES.has(type)) {
    throw new TypeError(`mutation type must be set, delete, sum, min or max: received ${describeValue(type)}`)
  }
}

function prepareMutation(mutation: KvMutation, key: Buffer, serializer: Serializer, now: number, raw: boolean): PreparedMutation {
  if (raw) assertMutationShape(mutation, mutation.type)
  switch (mutation.type) {
    case 'set': {
      const expiresAt = expiresAtFor(mutation.expireIn, now)
      const { bytes, encoding } = encodeValue(mutation.value, serializer)
      return { type: 'set', key, value: bytes, encoding, version: 0, expiresAt }
    }
    case 'delete':
      return { type: 'delete', key }
    default:
      return { type: mutation.type, key, operand: toOperand(mutation.type, mutation.value) }
  }
}

/**
 * Validates and encodes a commit. Throws `TypeError` / `RangeError` naming the check or mutation at fault (a plain
 * set or delete: the key alone); touches no storage.
 */
export function prepareCommit(
  checks: readonly AtomicCheck[],
  mutations: readonly KvMutation[],
  serializer: Serializer,
  now: number,
  source: CommitSource,
): PreparedCommit {
  if (checks.length > MAX_CHECKS) throw new RangeError(`Too many checks (max ${MAX_CHECKS}): received ${checks.length}`)
  if (mutations.length > MAX_MUTATIONS) {
    throw new RangeError(`Too many mutations (max ${MAX_MUTATIONS}): received ${mutations.length}`)
  }
  let keyBytes = 0
  let totalBytes = 0
  const preparedChecks: PreparedCheck[] = []
  for (let i = 0; i < checks.length; i++) {
    const check = prepareCheck(checks[i], i)
    keyBytes += check.key.length
    totalBytes += check.key.length
    preparedChecks.push(check)
  }
  const raw = source === 'raw'
  const preparedMutations: PreparedMutation[] = []
  for (let i = 0; i < mutations.length; i++) {
    const mutation = mutations[i]
    let prepared: PreparedMutation
    // Shown in the error once it has been encoded.
    let shownKey: KvKey | undefined
    try {
      assertMutation(mutation)
      const key = encodeKey(mutation.key)
      shownKey = mutation.key
      assertKeySize(key, 'write')
      prepared = prepareMutation(mutation, key, serializer, now, raw)
    } catch (error) {
      if (source === 'plain') throw error
      throw located(error, 'mutation', i, (mutation as KvMutation | null)?.type, shownKey)
    }
    keyBytes += prepared.key.length
    totalBytes += prepared.key.length + (prepared.type === 'set' ? prepared.value.length : prepared.type === 'delete' ? 0 : 8)
    preparedMutations.push(prepared)
  }
  if (keyBytes > MAX_TOTAL_KEY_BYTES) {
    throw new RangeError(`Total key size too large (max ${MAX_TOTAL_KEY_BYTES} bytes): received ${keyBytes}`)
  }
  if (totalBytes > MAX_TOTAL_MUTATION_BYTES) {
    throw new RangeError(`Total mutation size too large (max ${MAX_TOTAL_MUTATION_BYTES} bytes): received ${totalBytes}`)
  }
  return { checks: preparedChecks, mutations: preparedMutations, bytes: totalBytes }
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
 * Returns null when a check fails; throws `TypeError` when a mutation cannot apply (sum on a non-KvU64), and
 * `CorruptValueError` when the KvU64 it updates is corrupt.
 * sum, min and max keep the expiry of the entry they update.
 */
export function planCommit(tx: WriteTransaction, commit: PreparedCommit, now: number): CommitPlan | null {
  for (const check of commit.checks) {
    const row = liveRow(tx.read(check.key), now)
    const current = row ? toVersionstamp(row.version) : null
    if (current !== check.versionstamp) return null
  }
  const plan: CommitPlan = []
  const mutations = commit.mutations
  for (let i = 0; i < mutations.length; i++) {
    const m = mutations[i] as PreparedMutation
    if (m.type === 'set' || m.type === 'delete') {
      plan.push(m)
      continue
    }
    // Later mutations see earlier ones of the same commit.
    const row = currentRow(tx, plan, m.key, now)
    if (row && row.encoding !== U64) {
      throw new TypeError(`mutation ${i} (${m.type} ${showKey(decodeKey(m.key))}): the stored value is not a KvU64`)
    }
    const result = applyU64(m.type, row ? storedU64(row, m.key) : undefined, m.operand)
    // The counter keeps the expiry of the entry it updates (a rate-limit window); a new counter never expires.
    const expiresAt = row ? row.expiresAt : null
    plan.push({ type: 'set', key: m.key, value: encodeU64(result), encoding: U64, version: 0, expiresAt })
  }
  return plan
}

/** The counter stored in a KvU64 row; a row of the wrong length is corrupt and fails its commit alone. */
function storedU64(row: KvRow, key: Buffer): bigint {
  try {
    return decodeU64(row.value)
  } catch (error) {
    throw new CorruptValueError(decodeKey(key), { cause: error })
  }
}

/** Writes a plan (and the commit's queue messages) under a new commit version and returns that version. */
export function writePlan(tx: WriteTransaction, plan: CommitPlan, enqueues?: readonly QueueMessage[]): number {
  const version = tx.nextVersion()
  if (enqueues !== undefined && enqueues.length > 0) {
    if (tx.enqueue === undefined) throw new TypeError('this storage has no queue')
    for (const message of enqueues) tx.enqueue(message)
  }
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
