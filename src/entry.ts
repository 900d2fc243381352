/** The one rule that turns a stored row into an entry, for get, getMany and list alike. */
import { CorruptValueError } from './errors.js'
import type { Serializer } from './serializers/serializer.js'
import type { KvRow } from './storage/store.js'
import type { KvEntry, KvKey } from './types.js'
import { decodeValue } from './value.js'
import { toVersionstamp } from './versionstamp.js'

/**
 * The entry for a live row under `key` (which the entry takes as it is). A value that cannot be decoded throws
 * `CorruptValueError` naming the key, whatever the serializer threw.
 */
export function toEntry<T>(key: KvKey, row: KvRow, serializer: Serializer): KvEntry<T> {
  let value: unknown
  try {
    value = decodeValue(row.value, row.encoding, serializer)
  } catch (error) {
    throw new CorruptValueError(key, { cause: error })
  }
  return { key, value: value as T, versionstamp: toVersionstamp(row.version) }
}
