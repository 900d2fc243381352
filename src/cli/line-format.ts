/**
 * The export line format (docs/cli.md, "The export format"): one entry per line, in key order, as a JSON object
 * with exactly these properties, in this order:
 *
 * - `key`: the key as a JSON array (tagged-json.ts `keyToJson`);
 * - `value`: the value as tagged JSON (tagged-json.ts `valueToJson`);
 * - `expiresAt`: only for an entry that expires, the moment it does, as an ISO 8601 string in UTC with
 *   milliseconds (`2026-01-31T12:00:00.000Z`).
 *
 * No versionstamp: an import writes new ones. Nothing depends on when the export ran, so exporting the same
 * data twice gives the same bytes, and a dump diffs line by line.
 */
import type { KvKey } from '../types.js'
import { describeValue } from '../errors.js'
import { jsonToKey, jsonToValue, keyToJson, valueToJson } from './tagged-json.js'

/** One entry of an export. */
export interface LineEntry {
  key: KvKey
  value: unknown
  /** Epoch ms when it expires; null for never. */
  expiresAt: number | null
}

const PROPERTIES = new Set(['key', 'value', 'expiresAt'])

/** The line of an entry (without the newline). */
export function formatLine(entry: LineEntry): string {
  const line: Record<string, unknown> = { key: keyToJson(entry.key), value: valueToJson(entry.value) }
  if (entry.expiresAt !== null) line.expiresAt = new Date(entry.expiresAt).toISOString()
  return JSON.stringify(line)
}

/** The entry of a line. Throws `TypeError` saying what is wrong with it (the caller adds the line number). */
export function parseLine(text: string): LineEntry {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new TypeError(`not JSON: ${(error as Error).message}`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TypeError(`a line must be a JSON object with key and value: received ${describeValue(json)}`)
  }
  for (const name of Object.keys(json)) {
    if (!PROPERTIES.has(name)) throw new TypeError(`unknown property ${JSON.stringify(name)}`)
  }
  const { key, value, expiresAt } = json as Record<string, unknown>
  if (key === undefined) throw new TypeError('a line needs a key')
  if (!Object.hasOwn(json, 'value')) throw new TypeError('a line needs a value')
  return { key: jsonToKey(key), value: jsonToValue(value), expiresAt: parseExpiresAt(expiresAt) }
}

function parseExpiresAt(expiresAt: unknown): number | null {
  if (expiresAt === undefined) return null
  const time = typeof expiresAt === 'string' ? Date.parse(expiresAt) : NaN
  if (Number.isNaN(time) || new Date(time).toISOString() !== expiresAt) {
    throw new TypeError(`expiresAt must be an ISO 8601 UTC time such as "2026-01-31T12:00:00.000Z": received ${describeValue(expiresAt)}`)
  }
  return time
}
