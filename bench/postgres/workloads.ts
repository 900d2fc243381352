/**
 * The Postgres workloads: the SQLite bench's workloads (bench/workloads.ts) with their Valkeyrie halves as they
 * are (the public API does not change with the backend) and their raw halves rewritten for the asynchronous
 * raw `pg` baseline (bench/postgres/raw.ts): the same inputs, warm-ups, operation counts and self-checks.
 */
import type { KvKey } from '../../src/types.js'
import {
  CONCURRENT_ROUNDS,
  countAt,
  entryKey,
  entryValue,
  HOT_KEYS,
  startTimer,
  timed,
  WARMUP_WRITES,
  WORKLOADS,
  type Measurement,
  type Workload,
} from '../workloads.js'
import type { RawPgKv } from './raw.js'

export interface PgWorkload extends Omit<Workload, 'raw'> {
  raw: (store: RawPgKv, n: number, scale: number) => Promise<Measurement>
}

function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const randomKeys = (prefix: string, population: number, count: number, seed: number): KvKey[] => {
  const next = random(seed)
  return Array.from({ length: count }, () => entryKey(prefix, Math.floor(next() * population)))
}
const keysOf = (prefix: string, n: number): KvKey[] => Array.from({ length: n }, (_, i) => entryKey(prefix, i))
const valuesOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => entryValue(prefix, i))
const warm = (n: number, most: number): number => Math.min(n, most)
function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`benchmark self-check failed: ${what}`)
}
const nOf = (value: unknown): number => (value as { n: number } | null)?.n ?? -1
const usersAt = (scale: number): number => Math.max(10, countAt(20_000, scale))
const WARMUP_LIST = 1000

async function sequentialSets(store: RawPgKv, prefix: string, n: number): Promise<Measurement> {
  const [keys, values] = [keysOf(prefix, n), valuesOf(prefix, n)]
  for (let i = 0; i < warm(n, WARMUP_WRITES); i++) await store.set(entryKey('warmup', i), entryValue('warmup', i))
  const start = startTimer()
  for (let i = 0; i < n; i++) await store.set(keys[i]!, values[i])
  const m = timed(n, start)
  expect(nOf((await store.get(keys[n - 1]!)).value) === n - 1, 'last set readable')
  return m
}

async function listPrefix(store: RawPgKv, prefix: string, n: number, rounds: number): Promise<Measurement> {
  for (let round = 0; round < 5; round++) for await (const _ of store.list(['warmup']));
  let count = 0
  let sum = 0
  const start = startTimer()
  for (let round = 0; round < rounds; round++) {
    for await (const entry of store.list([prefix])) {
      count++
      sum += nOf(entry.value)
    }
  }
  const m = timed(count, start)
  expect(count === rounds * n && sum === rounds * ((n * (n - 1)) / 2), `listed ${count} of ${rounds * n}`)
  return m
}

const RAW: Record<string, PgWorkload['raw']> = {
  'seq-set': (store, n) => sequentialSets(store, 'users', n),
  async 'random-get'(store, n, scale) {
    const keys = randomKeys('users', usersAt(scale), n, 1)
    for (const key of randomKeys('users', usersAt(scale), warm(n, 10_000), 2)) await store.get(key)
    let found = 0
    const start = startTimer()
    for (let i = 0; i < n; i++) if ((await store.get(keys[i]!)).value !== null) found++
    const m = timed(n, start)
    expect(found === n, `all ${n} keys found (found ${found})`)
    return m
  },
  async 'hot-get'(store, n, scale) {
    const hot = randomKeys('users', usersAt(scale), HOT_KEYS, 5)
    for (let i = 0; i < warm(n, 10_000); i++) await store.get(hot[i % HOT_KEYS]!)
    let found = 0
    const start = startTimer()
    for (let i = 0; i < n; i++) if ((await store.get(hot[i % HOT_KEYS]!)).value !== null) found++
    const m = timed(n, start)
    expect(found === n, `all ${n} keys found (found ${found})`)
    return m
  },
  async 'get-many'(store, n, scale) {
    const keys = randomKeys('users', usersAt(scale), n * 10, 3)
    const batches = Array.from({ length: n }, (_, i) => keys.slice(i * 10, i * 10 + 10))
    const warmups = randomKeys('users', usersAt(scale), warm(n, 1000) * 10, 4)
    for (let i = 0; i < warm(n, 1000); i++) await store.getMany(warmups.slice(i * 10, i * 10 + 10))
    let found = 0
    const start = startTimer()
    for (let i = 0; i < n; i++) for (const entry of await store.getMany(batches[i]!)) if (entry.value !== null) found++
    const m = timed(n, start)
    expect(found === n * 10, `all ${n * 10} keys found (found ${found})`)
    return m
  },
  'list-prefix': (store, n) => listPrefix(store, 'users', n, 5),
  async 'atomic-sum'(store, n) {
    for (let i = 0; i < warm(n, WARMUP_WRITES); i++) await store.sum(['warmup-counter'], 1n)
    const start = startTimer()
    for (let i = 0; i < n; i++) await store.sum(['counter'], 1n)
    const m = timed(n, start)
    expect((await store.get(['counter'])).value === BigInt(n), 'counter reached n')
    return m
  },
  async 'check-and-set'(store, n) {
    const step = async (key: KvKey): Promise<void> => {
      const entry = await store.get(key)
      const ok = await store.checkAndSet(key, entry.versionstamp, { n: nOf(entry.value) + 1 })
      expect(ok !== null, 'check passed')
    }
    for (let i = 0; i < warm(n, WARMUP_WRITES); i++) await step(['warmup-cas'])
    const start = startTimer()
    for (let i = 0; i < n; i++) await step(['cas'])
    const m = timed(n, start)
    expect(nOf((await store.get(['cas'])).value) === n - 1, 'n checked sets applied')
    return m
  },
  async 'big-atomic'(store, n) {
    const batch = (prefix: string, b: number) =>
      Array.from({ length: 1000 }, (_, i) => [entryKey(prefix, b * 1000 + i), entryValue(prefix, b * 1000 + i)] as const)
    for (let b = 0; b < warm(n, 3); b++) await store.setMany(batch('warmup', b))
    const batches = Array.from({ length: n }, (_, b) => batch('items', b))
    const start = startTimer()
    for (const entries of batches) await store.setMany(entries)
    const m = timed(n, start)
    expect(nOf((await store.get(entryKey('items', n * 1000 - 1))).value) === n * 1000 - 1, 'last batch written')
    return m
  },
  'concurrent-set': (store, n) => sequentialSets(store, 'conc', n * CONCURRENT_ROUNDS),
  async 'list-1m'(store, n) {
    for (let round = 0; round < 5; round++) for await (const _ of store.list(['warmup']));
    let count = 0
    let sum = 0
    const rssBefore = process.memoryUsage.rss()
    let rssPeakDuring = rssBefore
    const start = startTimer()
    for await (const entry of store.list(['big'])) {
      sum += nOf(entry.value)
      if ((++count & 1023) === 0) rssPeakDuring = Math.max(rssPeakDuring, process.memoryUsage.rss())
    }
    const m = timed(count, start)
    rssPeakDuring = Math.max(rssPeakDuring, process.memoryUsage.rss())
    expect(count === n && sum === (n * (n - 1)) / 2, `listed ${count} of ${n}`)
    return { ...m, rssBefore, rssPeakDuring }
  },
}

/** Every workload of the SQLite bench, with its raw half for Postgres. */
export const PG_WORKLOADS: readonly PgWorkload[] = WORKLOADS.map((w) => {
  const raw = RAW[w.name]
  if (raw === undefined) throw new Error(`workload ${w.name} has no raw Postgres half`)
  return { ...w, raw }
})

export function pgWorkloadNamed(name: string): PgWorkload {
  const workload = PG_WORKLOADS.find((w) => w.name === name)
  if (!workload) throw new Error(`unknown workload ${JSON.stringify(name)}: one of ${PG_WORKLOADS.map((w) => w.name).join(', ')}`)
  return workload
}
