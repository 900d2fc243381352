/**
 * Before the SQLite driver face kept the library's records in `kv_meta`, a file opened through a wrapped
 * `sqliteDriver` held them as rows of `kv` under the reserved FF keys, beside (or instead of) the `kv_meta` row:
 * two counters, two serializer records. An open that may write folds them into `kv_meta` once (the larger
 * counter, the one serializer) and deletes the rows; a read-only open refuses such a file.
 */
import { eq, gte } from 'drizzle-orm'
import { SERIALIZER_KEY, VERSION_KEY } from '../driver.js'
import { OpenError } from '../../errors.js'
import { META_ID } from '../format.js'
import type { KvDatabase } from './queries.js'
import { kv, kvMeta } from './schema.js'

/** No encoded key begins with FF: every key from here on is one of the library's records. */
const RESERVED_START = Buffer.of(0xff)

/** Whether the file still holds records as `kv` rows. */
export const hasDriverRecords = (db: KvDatabase): boolean =>
  db.select({ key: kv.key }).from(kv).where(gte(kv.key, RESERVED_START)).limit(1).all().length > 0

/** Moves records kept as `kv` rows into `kv_meta`; run inside the open's write transaction. */
export function foldDriverRecords(db: KvDatabase, shownPath: string, formatVersion: number): void {
  const rows = db.select().from(kv).where(gte(kv.key, RESERVED_START)).all()
  if (rows.length === 0) return
  const version = rows.find((row) => row.key.equals(VERSION_KEY))?.version ?? 0
  const recorded = rows.find((row) => row.key.equals(SERIALIZER_KEY))
  // The driver face stored the name's first byte as the row's encoding, the rest as its value.
  const serializer = recorded && Buffer.concat([Buffer.of(recorded.encoding), recorded.value]).toString('utf8')
  const meta = db.select().from(kvMeta).where(eq(kvMeta.id, META_ID)).get()
  if (meta) {
    if (serializer !== undefined && serializer !== meta.serializer) {
      throw new OpenError(shownPath, `it holds two serializer records (${meta.serializer} and ${serializer})`)
    }
    db.update(kvMeta).set({ version: Math.max(meta.version, version) }).where(eq(kvMeta.id, META_ID)).run()
  } else if (serializer !== undefined) {
    db.insert(kvMeta).values({ id: META_ID, version, serializer, formatVersion }).run()
  } else {
    // A counter without a serializer record: the library records the serializer first, so nothing wrote this.
    throw new OpenError(shownPath, 'it holds a commit counter row without a serializer record')
  }
  db.delete(kv).where(gte(kv.key, RESERVED_START)).run()
}
