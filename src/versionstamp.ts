/**
 * Versionstamps (SPEC §4): the database's commit counter written as 20 lowercase hex digits, zero-padded, so string
 * order equals commit order. The first commit of a new database is `00000000000000000001`.
 */
import { describeValue } from './errors.js'

declare const brand: unique symbol
/** 20 lowercase hex digits naming one commit. */
export type Versionstamp = string & { readonly [brand]: 'Versionstamp' }

const VERSIONSTAMP = /^[0-9a-f]{20}$/

/** The versionstamp of commit number `version`. */
export const toVersionstamp = (version: number | bigint): Versionstamp =>
  version.toString(16).padStart(20, '0') as Versionstamp

/** The commit number of a versionstamp. */
export const fromVersionstamp = (versionstamp: string): bigint => BigInt('0x' + versionstamp)

/** Whether `value` is a well-formed versionstamp. */
export const isVersionstamp = (value: unknown): value is Versionstamp =>
  typeof value === 'string' && VERSIONSTAMP.test(value)

/** Throws `TypeError` unless `value` is a versionstamp or null (as an atomic check takes). */
export function assertCheckVersionstamp(value: unknown): asserts value is Versionstamp | null {
  if (value !== null && !isVersionstamp(value)) {
    throw new TypeError(`check versionstamp must be null or 20 lowercase hex digits: received ${describeValue(value)}`)
  }
}
