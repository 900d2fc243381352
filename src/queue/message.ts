/**
 * Queue messages (Deno KV's `enqueue`): checking the options, encoding the value and the keys, and the text form
 * of a message's key list and backoff schedule that the stores keep in their rows. Every limit is in limits.ts.
 */
import { describeValue } from '../errors.js'
import { decodeKey, encodeKey } from '../key/codec.js'
import { assertKeySize } from '../key/range.js'
import {
  DEFAULT_QUEUE_BACKOFF_MS,
  MAX_QUEUE_BACKOFF_INTERVALS,
  MAX_QUEUE_BACKOFF_MS,
  MAX_QUEUE_DELAY_MS,
  MAX_QUEUE_UNDELIVERED_KEYS,
} from '../limits.js'
import type { Serializer } from '../serializers/serializer.js'
import type { QueueMessage } from '../storage/store.js'
import type { KvKey } from '../types.js'
import { encodeValue } from '../value.js'

/** Options of `enqueue`, as Deno KV's. */
export interface KvEnqueueOptions {
  /** Milliseconds before the message is first handed out (0 to 30 days; default 0). */
  delay?: number
  /** Keys the value is written to when every delivery has failed (at most 10). */
  keysIfUndelivered?: KvKey[]
  /**
   * The delays (ms) before each retry of a failed delivery; its length is the number of retries (at most 5, each at
   * most an hour). Default `[100, 1000, 5000, 30000, 60000]`; `[]`: no retry.
   */
  backoffSchedule?: number[]
}

/** Enqueue options checked and encoded, waiting for the commit's clock and the value's encoding. */
export interface CheckedEnqueue {
  value: unknown
  delay: number
  keysIfUndelivered: Buffer[]
  backoffSchedule: number[]
}

const OPTION_NAMES = new Set(['delay', 'keysIfUndelivered', 'backoffSchedule'])

function checkDelay(delay: unknown): number {
  if (delay === undefined) return 0
  if (typeof delay !== 'number' || !Number.isInteger(delay)) {
    throw new TypeError(`delay must be a non-negative integer of milliseconds: received ${describeValue(delay)}`)
  }
  if (delay < 0 || delay > MAX_QUEUE_DELAY_MS) {
    throw new RangeError(`delay must be between 0 and ${MAX_QUEUE_DELAY_MS} milliseconds (30 days): received ${delay}`)
  }
  return delay
}

function checkKeys(keys: unknown): Buffer[] {
  if (keys === undefined) return []
  if (!Array.isArray(keys)) throw new TypeError(`keysIfUndelivered must be an array of keys: received ${describeValue(keys)}`)
  if (keys.length > MAX_QUEUE_UNDELIVERED_KEYS) {
    throw new RangeError(`Too many keysIfUndelivered (max ${MAX_QUEUE_UNDELIVERED_KEYS}): received ${keys.length}`)
  }
  return keys.map((key: unknown, i) => {
    try {
      const bytes = encodeKey(key as KvKey)
      assertKeySize(bytes, 'write')
      return bytes
    } catch (error) {
      if (!(error instanceof TypeError || error instanceof RangeError)) throw error
      const Kind = error instanceof RangeError ? RangeError : TypeError
      throw new Kind(`keysIfUndelivered[${i}]: ${error.message}`, { cause: error })
    }
  })
}

function checkBackoff(schedule: unknown): number[] {
  if (schedule === undefined) return [...DEFAULT_QUEUE_BACKOFF_MS]
  if (!Array.isArray(schedule)) {
    throw new TypeError(`backoffSchedule must be an array of milliseconds: received ${describeValue(schedule)}`)
  }
  if (schedule.length > MAX_QUEUE_BACKOFF_INTERVALS) {
    throw new RangeError(`Too many backoffSchedule intervals (max ${MAX_QUEUE_BACKOFF_INTERVALS}): received ${schedule.length}`)
  }
  return schedule.map((ms: unknown, i) => {
    if (typeof ms !== 'number' || !Number.isInteger(ms)) {
      throw new TypeError(`backoffSchedule[${i}] must be a non-negative integer of milliseconds: received ${describeValue(ms)}`)
    }
    if (ms < 0 || ms > MAX_QUEUE_BACKOFF_MS) {
      throw new RangeError(`backoffSchedule[${i}] must be between 0 and ${MAX_QUEUE_BACKOFF_MS} milliseconds: received ${ms}`)
    }
    return ms
  })
}

/** Checks `enqueue`'s options. Throws `TypeError`/`RangeError` for anything Deno KV refuses. */
export function checkEnqueue(value: unknown, options: unknown): CheckedEnqueue {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`enqueue options must be an object: received ${describeValue(options)}`)
  }
  const o = (options ?? {}) as KvEnqueueOptions
  for (const name in o) if (!OPTION_NAMES.has(name)) throw new TypeError(`unknown enqueue option ${JSON.stringify(name)}`)
  return {
    value,
    delay: checkDelay(o.delay),
    keysIfUndelivered: checkKeys(o.keysIfUndelivered),
    backoffSchedule: checkBackoff(o.backoffSchedule),
  }
}

/** The stored message: the value encoded as an entry's (so at most 64 KiB; `RangeError` past it), ready at `now + delay`. */
export function encodeMessage(checked: CheckedEnqueue, serializer: Serializer, now: number): QueueMessage {
  const { bytes, encoding } = encodeValue(checked.value, serializer)
  return {
    value: bytes,
    encoding,
    readyAt: now + checked.delay,
    keysIfUndelivered: checked.keysIfUndelivered,
    backoffSchedule: checked.backoffSchedule,
  }
}

/** A message's `keysIfUndelivered` as stored in a text column: a JSON array of the encoded keys in hex. */
export const keysToText = (keys: readonly Buffer[]): string => JSON.stringify(keys.map((k) => k.toString('hex')))

/** The inverse of `keysToText`. */
export const keysFromText = (text: string): Buffer[] => (JSON.parse(text) as string[]).map((k) => Buffer.from(k, 'hex'))

/** A backoff schedule as stored in a text column: a JSON array of ms. */
export const scheduleToText = (schedule: readonly number[]): string => JSON.stringify(schedule)

/** The inverse of `scheduleToText`. */
export const scheduleFromText = (text: string): number[] => JSON.parse(text) as number[]

/** The keys of `keysIfUndelivered`, decoded (for error messages). */
export const shownKeys = (keys: readonly Buffer[]): KvKey[] => keys.map((k) => decodeKey(k))
