/**
 * Untimed preparation of a contender's database file: create its tables (Valkeyrie through `Valkeyrie.open`, raw
 * through its own schema), then insert the workload's rows directly with better-sqlite3 in one transaction, in
 * Valkeyrie's row format (encoded key, v8 value, encoding 1, one commit version). Both contenders get
 * byte-identical `kv` rows; this is faster than writing a million entries through either API.
 */
import { rmSync } from 'node:fs'
import { serialize } from 'node:v8'
import Database from 'better-sqlite3'
import { keyCodec } from './package-under-test.js'

const { encodeKey } = keyCodec
import { RawKv, type Durability } from './raw.js'
import type { Side } from './contenders.js'
import { countAt, entryKey, entryValue, workloadNamed, type PopulateSpec } from './workloads.js'

export interface ContenderResult {
  /** The contender's name (contenders.ts); contender.ts itself prints its side, the driver renames it. */
  contender: string
  workload: string
  durability: Durability
  scale: number
  /** The workload's count at this scale. */
  n: number
  ops: number
  seconds: number
  opsPerSec: number
  /** CPU time (user + system) per operation during the timed part, in seconds. */
  cpuPerOp: number
  /** Peak RSS of the whole process (VmHWM on Linux, else getrusage maxRSS), in bytes. */
  maxRss: number
  rssBefore?: number
  rssPeakDuring?: number
  rssGrowth?: number
}

/** Removes a database file and its WAL companions. */
export function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true })
}

/** Creates an empty database file for the contender, with its tables. */
export async function createDatabase(contender: Side, path: string, durability: Durability): Promise<void> {
  if (contender === 'raw') {
    RawKv.open(path, durability).close()
    return
  }
  const { Valkeyrie } = await import('./package-under-test.js').then((m) => m.valkeyrie)
  const db = await Valkeyrie.open(path, { durability, sweepInterval: 0 })
  await db.close()
}

/** Inserts the entries of `specs` into an existing database file, as one commit. */
export function populate(path: string, specs: readonly PopulateSpec[]): void {
  if (specs.length === 0) return
  const db = new Database(path)
  try {
    db.pragma('busy_timeout = 5000')
    db.pragma('synchronous = NORMAL')
    const insert = db.prepare<[Buffer, Buffer, number]>(
      'INSERT INTO kv (key, value, encoding, version, expires_at) VALUES (?, ?, 1, ?, NULL)',
    )
    const readCounter = db.prepare<[], number>('SELECT version FROM kv_meta WHERE id = 1').pluck()
    const writeCounter = db.prepare<[number]>('UPDATE kv_meta SET version = ? WHERE id = 1')
    db.transaction(() => {
      const version = (readCounter.get() ?? 0) + 1
      writeCounter.run(version)
      for (const { prefix, count } of specs) {
        for (let i = 0; i < count; i++) insert.run(encodeKey(entryKey(prefix, i)), serialize(entryValue(prefix, i)), version)
      }
    }).immediate()
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

/** Creates a database file for `contender` holding what `workload` reads. */
export async function prepareDatabase(
  contender: Side,
  workloadName: string,
  path: string,
  scale: number,
  durability: Durability,
): Promise<void> {
  const workload = workloadNamed(workloadName)
  await createDatabase(contender, path, durability)
  populate(path, workload.populate?.(countAt(workload.base, scale), scale) ?? [])
}

