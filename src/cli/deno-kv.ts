/**
 * Reading a Deno KV SQLite file (as Deno and `@deno/kv` write it). Its `kv` table holds one row per entry:
 * `k`, the key in the same tuple encoding as ours (key/codec.ts); `v` and `v_encoding`, the value, where encoding
 * 1 is V8 serialization (read with node:v8), 2 a KvU64 as 8 little-endian bytes, and 3 a Uint8Array as its raw
 * bytes; `expiration_ms`, epoch ms or -1 for never. The file is opened read-only: nothing is written to it.
 */
import { deserialize } from 'node:v8'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import { formatKey, OpenError } from '../errors.js'
import { decodeKey } from '../key/codec.js'
import { KvU64 } from '../u64.js'
import type { LineEntry } from './line-format.js'

const V8 = 1
const LE64 = 2
const BYTES = 3
const COLUMNS = ['k', 'v', 'v_encoding', 'expiration_ms']

interface DenoRow {
  k: Buffer
  v: Buffer
  v_encoding: number
  expiration_ms: number
}

/** Opens a Deno KV file read-only; throws `OpenError` when it is missing or is not one. */
export function openDenoKv(path: string): Database.Database {
  const shown = resolve(path)
  if (!existsSync(path)) throw new OpenError(shown, 'it does not exist')
  let client: Database.Database | undefined
  try {
    client = new Database(path, { readonly: true, fileMustExist: true })
    const columns = (client.prepare("SELECT name FROM pragma_table_info('kv')").all() as { name: string }[]).map((c) => c.name)
    if (!COLUMNS.every((name) => columns.includes(name))) throw new Error('it is not a Deno KV database (no kv table with k, v, v_encoding, expiration_ms)')
    return client
  } catch (error) {
    client?.close()
    throw new OpenError(shown, (error as Error).message, { cause: error })
  }
}

/** The entries of a Deno KV file in key order (expired ones included: the caller decides). */
export function* readDenoKv(client: Database.Database): Generator<LineEntry> {
  const rows = client.prepare('SELECT k, v, v_encoding, expiration_ms FROM kv ORDER BY k').iterate() as IterableIterator<DenoRow>
  for (const row of rows) {
    const key = decodeKey(row.k)
    let value: unknown
    try {
      value = decodeDenoValue(row.v, row.v_encoding)
    } catch (error) {
      throw new TypeError(`the value at ${formatKey(key)} cannot be read: ${(error as Error).message}`)
    }
    yield { key, value, expiresAt: row.expiration_ms < 0 ? null : row.expiration_ms }
  }
}

function decodeDenoValue(bytes: Buffer, encoding: number): unknown {
  switch (encoding) {
    case V8:
      return deserialize(bytes)
    case LE64:
      if (bytes.length !== 8) throw new TypeError(`a KvU64 is 8 bytes: found ${bytes.length}`)
      return new KvU64(bytes.readBigUInt64LE())
    case BYTES:
      return new Uint8Array(bytes)
    default:
      throw new TypeError(`unknown value encoding ${encoding}`)
  }
}
