/**
 * Counts the client round trips of each kind of operation, for Valkeyrie (on its `pg` clients: a flight of
 * pipelined statements, or a text of several statements, counts once) and for the raw baseline (its own count: a
 * pipelined flight counts once). Also counts the transactions of 1,000 concurrent set()s, which group commit
 * folds together.
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

/**
 * Counts the client round trips (flights) on every node-postgres client while `fn` runs: a `query()` call made
 * while its client awaits no answer starts a flight; the calls made before the answers come (pipelined) join it.
 * Also counts the COMMITs sent (the transactions).
 */
async function countQueries(fn: () => Promise<unknown>): Promise<{ flights: number; commits: number }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = proto.query
  const pending = new WeakMap<object, number>()
  let flights = 0
  let commits = 0
  proto.query = function (this: object, ...args: unknown[]) {
    const waiting = pending.get(this) ?? 0
    if (waiting === 0) flights++
    const config = args[0] as string | { text?: string }
    const text = typeof config === 'string' ? config : (config?.text ?? '')
    if (/(^|;\s*)COMMIT\s*$/.test(text)) commits++
    pending.set(this, waiting + 1)
    const answer = original.apply(this, args) as Promise<unknown> | undefined
    const done = () => pending.set(this, (pending.get(this) ?? 1) - 1)
    if (answer && typeof answer.then === 'function') answer.then(done, done)
    else done()
    return answer
  }
  try {
    await fn()
  } finally {
    proto.query = original
  }
  return { flights, commits }
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
      perOperation.push({ operation, raw: r / REPEAT, valkeyrie: v.flights / REPEAT })
    }
    const sets = 1000
    const { commits } = await countQueries(() => Promise.all(Array.from({ length: sets }, (_, i) => db.set(['conc', i], i))))
    return { perOperation, concurrentSets: { sets, transactions: commits } }
  } finally {
    await store.close()
    await db.close()
    await dropSchema(url, rawName)
    await dropSchema(url, vName)
  }
}
