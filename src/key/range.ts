/**
 * List selectors and cursors (SPEC §5) as byte ranges over encoded keys.
 *
 * Every selector resolves to a half-open range `[start, end)` of encoded keys plus a `base`: the bytes every key
 * in the range begins with. A cursor is base64url of the last returned key's bytes after `base`.
 */
import { describeValue } from '../errors.js'
import { MAX_KEY_BYTES } from '../limits.js'
import type { KvKey, KvListSelector } from '../types.js'
import { decodeKey, encodeKey } from './codec.js'

export interface KeyRange {
  start: Buffer
  end: Buffer
  /** Bytes shared by every key of the range; cursors are relative to it. */
  base: Buffer
}

/** Every part tag is below FF, so `prefix + FF` is above every descendant of prefix. */
const AFTER_DESCENDANTS = Buffer.of(0xff)
/** Every part tag is above 00, so `prefix + 00` is below every descendant and above the prefix key itself. */
const BEFORE_DESCENDANTS = Buffer.of(0x00)

/** Throws `RangeError` when an encoded key is over the limit. */
export function assertKeySize(bytes: Uint8Array, use: 'read' | 'write', where = ''): void {
  if (bytes.length > MAX_KEY_BYTES) {
    throw new RangeError(`Key too large for ${use} (max ${MAX_KEY_BYTES} bytes)${where}: received ${bytes.length}`)
  }
}

function encodeBound(key: unknown, what: string): Buffer {
  const bytes = encodeKey(key as KvKey, { what })
  assertKeySize(bytes, 'read')
  return bytes
}

/**
 * Whether the key encoded as `bytes` begins with all the parts of the prefix encoded as `prefix`. Matching bytes are
 * not enough: `['a\0', …]` (`02 61 00 FF 00 …`) starts with the bytes of `['a']` (`02 61 00`) without starting with its
 * part. The byte after a whole-part match is a type tag, never `FF`, while an escaped `00` inside a string or
 * Uint8Array part is followed by `FF`.
 */
function startsWithParts(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length > prefix.length && bytes.subarray(0, prefix.length).equals(prefix) && bytes[prefix.length] !== 0xff
}

/** A start or end inside a prefix selector: a full key if it extends the prefix, otherwise relative to it. */
function resolveInPrefix(prefix: Buffer, prefixLength: number, key: unknown, what: string): Buffer {
  const bytes = encodeKey(key as KvKey, { what })
  const isFullKey = (key as KvKey).length > prefixLength && startsWithParts(bytes, prefix)
  const resolved = isFullKey ? bytes : Buffer.concat([prefix, bytes])
  assertKeySize(resolved, 'read')
  return resolved
}

function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

/** Validates a selector and resolves it to a byte range. Throws `TypeError` / `RangeError` before any I/O. */
export function resolveSelector(selector: KvListSelector): KeyRange {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
    throw new TypeError(`list selector must be an object: received ${describeValue(selector)}`)
  }
  const { prefix, start, end } = selector as { prefix?: unknown; start?: unknown; end?: unknown }
  let range: KeyRange
  if (prefix !== undefined) {
    const prefixBytes = encodeKey(prefix as KvKey, { allowEmpty: true, what: 'list prefix' })
    assertKeySize(prefixBytes, 'read')
    const length = (prefix as KvKey).length
    range = {
      start:
        start === undefined
          ? Buffer.concat([prefixBytes, BEFORE_DESCENDANTS])
          : resolveInPrefix(prefixBytes, length, start, 'list start'),
      end:
        end === undefined
          ? Buffer.concat([prefixBytes, AFTER_DESCENDANTS])
          : resolveInPrefix(prefixBytes, length, end, 'list end'),
      base: prefixBytes,
    }
  } else if (start !== undefined && end !== undefined) {
    const startBytes = encodeBound(start, 'list start')
    const endBytes = encodeBound(end, 'list end')
    // The base stops short of the whole start key: when start is a prefix of end (`['a']` .. `['a', 'z']`), the start
    // key itself is listed and its cursor would otherwise be '', which means "from the beginning".
    const baseLength = Math.min(commonPrefixLength(startBytes, endBytes), startBytes.length - 1)
    range = { start: startBytes, end: endBytes, base: startBytes.subarray(0, baseLength) }
  } else {
    throw new TypeError(
      'list selector must have a prefix, or both start and end: received ' +
        (start !== undefined ? 'start without end' : end !== undefined ? 'end without start' : 'neither'),
    )
  }
  if (Buffer.compare(range.start, range.end) > 0) throw new TypeError('list start must not be after list end')
  return range
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** The cursor of `key` within `range`. */
export const encodeCursor = (key: Buffer, range: KeyRange): string =>
  key.subarray(range.base.length).toString('base64url')

/**
 * Narrows `range` to what follows the entry a cursor names: after it going forward, before it in reverse.
 * Throws `TypeError` for a malformed cursor or one that lies outside the range.
 */
export function applyCursor(range: KeyRange, cursor: unknown, reverse: boolean): KeyRange {
  if (typeof cursor !== 'string') throw new TypeError(`cursor must be a string: received ${describeValue(cursor)}`)
  const tail = Buffer.from(cursor, 'base64url')
  if (!BASE64URL.test(cursor) || tail.toString('base64url') !== cursor || tail.length === 0) {
    throw new TypeError(`cursor is malformed: received ${JSON.stringify(cursor)}`)
  }
  const key = Buffer.concat([range.base, tail])
  let parts: KvKey
  try {
    parts = decodeKey(key)
    // Only the exact bytes of some key name an entry: reject bytes that decode leniently (a bigint with leading zero
    // bytes, a short bigint in the long form, a NaN other than the canonical one).
    if (!encodeKey(parts, { allowEmpty: true }).equals(key)) throw new TypeError('not canonical')
  } catch {
    throw new TypeError(`cursor is malformed: received ${JSON.stringify(cursor)}`)
  }
  if (parts.length === 0 || Buffer.compare(key, range.start) < 0 || Buffer.compare(key, range.end) >= 0) {
    throw new TypeError(`cursor lies outside the list selector: received ${JSON.stringify(cursor)}`)
  }
  return reverse
    ? { ...range, end: key }
    : { ...range, start: Buffer.concat([key, BEFORE_DESCENDANTS]) }
}
