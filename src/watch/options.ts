/** The arguments of `watch`, checked before anything is watched. */
import { describeValue } from '../errors.js'
import { encodeKey } from '../key/codec.js'
import { assertKeySize } from '../key/range.js'
import { MAX_WATCH_KEYS } from '../limits.js'
import type { KvKey } from '../types.js'

/** Options of `watch`. */
export interface WatchOptions {
  /** Also emit when a change was announced but no versionstamp changed (as Deno KV's `raw`); default false. */
  raw?: boolean
}

/** The keys, encoded and checked as read keys, and the options; throws `TypeError`/`RangeError`. */
export function watchKeys(keys: unknown, options: unknown): { encoded: Buffer[]; raw: boolean } {
  if (!Array.isArray(keys)) throw new TypeError(`watch takes an array of keys: received ${describeValue(keys)}`)
  if (keys.length > MAX_WATCH_KEYS) {
    throw new RangeError(`Too many keys for watch (max ${MAX_WATCH_KEYS}): received ${keys.length}`)
  }
  const encoded = keys.map((key: KvKey) => {
    const bytes = encodeKey(key)
    assertKeySize(bytes, 'read')
    return bytes
  })
  return { encoded, raw: rawOption(options) }
}

function rawOption(options: unknown): boolean {
  if (options === undefined) return false
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`watch options must be an object: received ${describeValue(options)}`)
  }
  for (const name of Object.keys(options)) {
    if (name !== 'raw') throw new TypeError(`unknown watch option ${JSON.stringify(name)}`)
  }
  const { raw } = options as { raw?: unknown }
  if (raw !== undefined && typeof raw !== 'boolean') throw new TypeError(`raw must be a boolean: received ${describeValue(raw)}`)
  return raw === true
}
