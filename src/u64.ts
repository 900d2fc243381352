/**
 * KvU64: an unsigned 64-bit integer value, the operand and result of atomic `sum`, `min` and `max`.
 * Stored as 8 little-endian bytes whatever the serializer (see `value.ts`).
 */
import { describeValue } from './errors.js'
import { MAX_U64 } from './limits.js'

/** An unsigned 64-bit integer, 0 … 2^64-1. */
export class KvU64 {
  readonly value: bigint

  constructor(value: bigint) {
    if (typeof value !== 'bigint') throw new TypeError(`KvU64 value must be a bigint: received ${describeValue(value)}`)
    if (value < 0n || value > MAX_U64) {
      // The usual reason for a negative KvU64 is a decrement, which sum does with a negative bigint.
      const hint = value < 0n ? ' (to decrement a counter, use sum(key, -1n))' : ''
      throw new RangeError(`KvU64 value must be between 0 and 2^64-1${hint}: received ${value}n`)
    }
    this.value = value
    Object.freeze(this)
  }

  valueOf(): bigint {
    return this.value
  }

  toString(): string {
    return this.value.toString()
  }

  toJSON(): string {
    return this.value.toString()
  }

  get [Symbol.toStringTag](): string {
    return 'KvU64'
  }
}

export default KvU64
