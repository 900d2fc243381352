/**
 * Counts the client round trips of each kind of operation, for Valkeyrie (every `query()` call on a node-postgres
 * client is one round trip: Valkeyrie's connections are not pipelined, and a commit's text of several statements
 * is one query) and for the raw baseline (its own count: a pipelined flight counts once). Also counts the
 * transactions of 1,000 concurrent set()s, which group commit folds together.
 */
import pg from 'pg'
import type { KvKey } from '../../src/types.js'
import { entryKey, entryValue } from '../workloads.js'
import { dropSchema } from './populate.js'
import { RawPgKv, rawSchema, type Durability } from './raw.js'

export interface RoundTrips {
  operation: string
  raw: number
  valkeyrie: number
}

const REPEAT = 50

/** Counts `query()` calls on every node-postgres client while `fn` runs. */
async function countQueries(fn: () => Promise<unknown>): Promise<number> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = proto.query
  let count = 0
  proto.query = function (this: unknown, ...args: unknown[]) {
    count++
    return original.apply(this, args)
  }
  try {
    await fn()
  } finally {
    proto.query = original
  }
  return count
}

async function rawCount(store: RawPgKv, fn: () => Promise<unknown>): Promise<number> {
  const before = store.roundTrips
  await fn()
  return store.roundTrips - before
}

const repeat = async (fn: (i: number) => Promise<unknown>): Promise<void> => {
  for (let i = 0; i < REPEAT; i++) await fn(i)
}

export async function measureRoundTrips(
  url: string,
  durability: Durability,
): Promise<{ perOperation: RoundTrips[]; concurrentSets: { sets: number; transactions: number } }> {
  const { Valkeyrie } = await import('../package-under-test.js').then((m) => m.valkeyrie)
  const [rawName, vName] = ['valkeyrie_bench_rt_raw', 'valkeyrie_bench_rt_valkeyrie']
  await dropSchema(url, rawName)
  await dropSchema(url, vName)
  const setup = new pg.Client(url)
  await setup.connect()
  await setup.query(rawSchema(rawName))
  await setup.end()
  const store = await RawPgKv.open(url, rawName, durability)
  const db = await Valkeyrie.open(url, { schema: vName, durability, sweepInterval: 0 })
  try {
    const big = (i: number) => Array.from({ length: 1000 }, (_, j) => [entryKey('big', i * 1000 + j), entryValue('big', j)] as const)
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      ['set (one commit)', () => repeat((i) => store.set(entryKey('a', i), i)), () => repeat((i) => db.set(entryKey('a', i), i))],
      [
        'atomic sum (one commit)',
        () => repeat(() => store.sum(['c'], 1n)),
        () => repeat(() => db.atomic().sum(['c'], 1n).commit()),
      ],
      [
        'check + set (one commit, check passes)',
        () => repeat(async (i) => store.checkAndSet(['k', i], null, i)),
        () => repeat(async (i) => db.atomic().check({ key: ['k', i] as KvKey, versionstamp: null }).set(['k', i], i).commit()),
      ],
      [
        '1,000-key atomic (one commit)',
        () => repeat((i) => store.setMany(big(i))),
        () =>
          repeat(async (i) => {
            const op = db.atomic()
            for (const [key, value] of big(i)) op.set(key, value)
            return op.commit()
          }),
      ],
      ['get', () => repeat((i) => store.get(entryKey('a', i))), () => repeat((i) => db.get(entryKey('a', i)))],
      [
        'getMany of 10 keys',
        () => repeat((i) => store.getMany(Array.from({ length: 10 }, (_, j) => entryKey('a', (i + j) % REPEAT)))),
        () => repeat((i) => db.getMany(Array.from({ length: 10 }, (_, j) => entryKey('a', (i + j) % REPEAT)))),
      ],
    ]
    // Warm both (connections open, statements prepared) before counting.
    await store.set(['warm'], 0)
    await db.set(['warm'], 0)
    const perOperation: RoundTrips[] = []
    for (const [operation, raw, valkeyrie] of cases) {
      const r = await rawCount(store, raw)
      const v = await countQueries(valkeyrie)
      perOperation.push({ operation, raw: r / REPEAT, valkeyrie: v / REPEAT })
    }
    const sets = 1000
    const queries = await countQueries(() => Promise.all(Array.from({ length: sets }, (_, i) => db.set(['conc', i], i))))
    // Every write transaction is exactly two queries (see src/storage/postgres/storage.ts).
    return { perOperation, concurrentSets: { sets, transactions: queries / 2 } }
  } finally {
    await store.close()
    await db.close()
    await dropSchema(url, rawName)
    await dropSchema(url, vName)
  }
}
