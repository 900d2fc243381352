/**
 * The driver face of a built-in store: its rows as driver entries and back, and the library's records (driver.ts
 * `VERSION_KEY`, `SERIALIZER_KEY`) read from and written to the store's metadata row, so that a database has one
 * counter and one serializer record whether it is opened directly or through its driver.
 */
import { type DriverEntry, SERIALIZER_KEY, VERSION_KEY } from './driver.js'
import { formatProblem } from './format.js'
import type { KvRow } from './store.js'
import { fromVersionstamp, toVersionstamp } from '../versionstamp.js'

/** A row as a driver entry: the value bytes are `[encoding, ...bytes]`. */
export const rowToEntry = (row: KvRow): DriverEntry => ({
  key: row.key,
  value: Buffer.concat([Buffer.of(row.encoding), row.value]),
  versionstamp: toVersionstamp(row.version),
  expiresAt: row.expiresAt,
})

/** A driver entry as a row. */
export function entryToRow(key: Buffer, value: Buffer, versionstamp: string, expiresAt: number | null): KvRow {
  return { key, value: value.subarray(1), encoding: value[0] as number, version: Number(fromVersionstamp(versionstamp)), expiresAt }
}

/** Which of the library's records a key names, if any (every other key is an entry). */
export function recordOf(key: Uint8Array): 'version' | 'serializer' | undefined {
  if (key[0] !== 0xff) return undefined
  const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength)
  return bytes.equals(VERSION_KEY) ? 'version' : bytes.equals(SERIALIZER_KEY) ? 'serializer' : undefined
}

/** What a store's metadata row holds. */
export interface MetaRecord {
  version: number
  serializer: string
  formatVersion: number
}

/** A record as the entry a driver returns, from the metadata row (undefined when there is none yet). */
export function recordEntry(record: 'version' | 'serializer', meta: MetaRecord | undefined): DriverEntry | undefined {
  if (!meta) return undefined
  const problem = formatProblem(meta.formatVersion)
  if (problem) throw new Error(problem)
  return record === 'version'
    ? { key: VERSION_KEY, value: Buffer.of(0), versionstamp: toVersionstamp(meta.version), expiresAt: null }
    : { key: SERIALIZER_KEY, value: Buffer.from(meta.serializer, 'utf8'), versionstamp: toVersionstamp(0), expiresAt: null }
}

/** The counter a `set` of the version record writes. */
export const recordedVersion = (versionstamp: string): number => Number(fromVersionstamp(versionstamp))
