/**
 * Untimed preparation of a contender's schema: drop it, create its tables (Valkeyrie through `Valkeyrie.open`, raw
 * through its own DDL), then insert the workload's rows directly in Valkeyrie's row format (encoded key, v8 value,
 * encoding 1, one commit version), and VACUUM ANALYZE them, so both contenders start from identical `kv` rows.
 */
import { serialize } from 'node:v8'
import pg from 'pg'
import { keyCodec } from '../package-under-test.js'
import { countAt, entryKey, entryValue, type PopulateSpec } from '../workloads.js'
import { rawSchema, type Durability } from './raw.js'
import type { PgWorkload } from './workloads.js'

export type ContenderName = 'raw' | 'valkeyrie'
export const CONTENDERS: readonly ContenderName[] = ['raw', 'valkeyrie']

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`
const INSERT_BATCH = 10_000

/** The schema a contender runs in. */
export const schemaOf = (contender: ContenderName): string => `valkeyrie_bench_${contender}`

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`)
  } finally {
    await client.end()
  }
}

async function createTables(contender: ContenderName, url: string, schema: string, durability: Durability): Promise<void> {
  if (contender === 'valkeyrie') {
    const { Valkeyrie } = await import('../package-under-test.js').then((m) => m.valkeyrie)
    const db = await Valkeyrie.open(url, { schema, durability, sweepInterval: 0 })
    await db.close()
    return
  }
  const client = new pg.Client(url)
  await client.connect()
  try {
    await client.query(rawSchema(schema))
  } finally {
    await client.end()
  }
}

async function populate(url: string, schema: string, specs: readonly PopulateSpec[]): Promise<void> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    const kv = `${quote(schema)}.kv`
    if (specs.length > 0) {
      await client.query('BEGIN')
      await client.query(`UPDATE ${quote(schema)}.kv_meta SET version = version + 1 WHERE id = 1`)
      for (const { prefix, count } of specs) {
        for (let from = 0; from < count; from += INSERT_BATCH) {
          const keys: Buffer[] = []
          const values: Buffer[] = []
          for (let i = from; i < Math.min(count, from + INSERT_BATCH); i++) {
            keys.push(keyCodec.encodeKey(entryKey(prefix, i)))
            values.push(serialize(entryValue(prefix, i)))
          }
          await client.query(
            `INSERT INTO ${kv} (key, value, encoding, version, expires_at) ` +
              `SELECT k, v, 1, m.version, NULL FROM unnest($1::bytea[], $2::bytea[]) AS u(k, v), ${quote(schema)}.kv_meta m WHERE m.id = 1`,
            [keys, values],
          )
        }
      }
      await client.query('COMMIT')
    }
    await client.query(`VACUUM ANALYZE ${kv}`)
    await client.query(`VACUUM ANALYZE ${quote(schema)}.kv_meta`)
    await client.query('CHECKPOINT')
  } finally {
    await client.end()
  }
}

/** A fresh schema for `contender` holding what `workload` reads. */
export async function prepareSchema(
  contender: ContenderName,
  workload: PgWorkload,
  url: string,
  scale: number,
  durability: Durability,
): Promise<string> {
  const schema = schemaOf(contender)
  await dropSchema(url, schema)
  await createTables(contender, url, schema, durability)
  await populate(url, schema, workload.populate?.(countAt(workload.base, scale), scale) ?? [])
  return schema
}
