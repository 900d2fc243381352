/**
 * Versionstamps (SPEC §4): the database's commit counter written as 20 lowercase hex digits, zero-padded, so string
 * order equals commit order. The first commit of a new database is `00000000000000000001`.
 */
import { describeValue } from './errors.js'

declare const brand: unique symbol
/** 20 lowercase hex digits naming one commit. */
export type Versionstamp = string & { readonly [brand]: 'Versionstamp' }

const VERSIONSTAMP = /^[0-9a-f]{20}$/

/** One past the largest commit number 20 hex digits can write. */
const VERSION_LIMIT = 1n << 80n

/** The versionstamp of commit number `version` (a non-negative integer below 2^80; `RangeError` otherwise). */
export function toVersionstamp(version: number | bigint): Versionstamp {
  const valid =
    typeof version === 'number'
      ? Number.isSafeInteger(version) && version >= 0
      : typeof version === 'bigint' && version >= 0n && version < VERSION_LIMIT
  if (!valid) {
    throw new RangeError(`commit number must be an integer between 0 and 2^80-1: received ${describeValue(version)}`)
  }
  return version.toString(16).padStart(20, '0') as Versionstamp
}

/** The commit number of a versionstamp. Throws `TypeError` unless it is 20 lowercase hex digits. */
export function fromVersionstamp(versionstamp: string): bigint {
  if (!isVersionstamp(versionstamp)) {
    throw new TypeError(`versionstamp must be 20 lowercase hex digits: received ${describeValue(versionstamp)}`)
  }
  return BigInt('0x' + versionstamp)
}

/** Whether `value` is a well-formed versionstamp. */
export const isVersionstamp = (value: unknown): value is Versionstamp =>
  typeof value === 'string' && VERSIONSTAMP.test(value)

/** Throws `TypeError` unless `value` is a versionstamp or null (as an atomic check takes). */
export function assertCheckVersionstamp(value: unknown): asserts value is Versionstamp | null {
  if (value !== null && !isVersionstamp(value)) {
    throw new TypeError(`versionstamp must be null or 20 lowercase hex digits: received ${describeValue(value)}`)
  }
}
