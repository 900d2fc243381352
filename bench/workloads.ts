/**
 * The workloads, each written twice side by side: once against Valkeyrie's public API, once against the raw
 * baseline. Inputs (keys, values, random choices) are built before the clock starts. An untimed warm-up runs the
 * same operation first, on a disjoint key space (up to 5,000 writes, 1,000 getManys, 10,000 gets, 3 big commits,
 * 5 rounds of concurrent sets, 5 listings of a 1,000-entry prefix; never more than the workload itself), so both
 * contenders are measured in steady state, code compiled. Every workload checks its own result, so a broken run
 * fails instead of reporting a speed.
 */
import type { KvKey, KvU64, Valkeyrie } from '../src/index.js'
import type { RawKv } from './raw.js'

/** A run of entries `[prefix, "<prefix>-<i, 7 digits>"] → { name, n: i }` for i in 0 … count-1. */
export interface PopulateSpec {
  prefix: string
  count: number
}

export const entryKey = (prefix: string, i: number): KvKey => [prefix, `${prefix}-${String(i).padStart(7, '0')}`]
export const entryValue = (prefix: string, i: number): { name: string; n: number } => ({ name: `${prefix}-${i}`, n: i })

export interface Measurement {
  /** Operations timed (the unit is the workload's `unit`). */
  ops: number
  seconds: number
  /**
   * CPU time (user + system) of the process over the same span. On a machine busy with other work it moves less
   * than the wall clock; it leaves out waiting for the disk (the fsync of 'full').
   */
  cpuSeconds: number
  /** RSS just before the timed part, in bytes (list-1m only). */
  rssBefore?: number
  /** Highest RSS sampled during the timed part, in bytes (list-1m only). */
  rssPeakDuring?: number
}

export interface Workload {
  name: string
  /** What one operation is. */
  unit: string
  /** Operation count at scale 1. */
  base: number
  /** Counts toward the "≥ 0.9× raw" target (every workload but concurrent-set, whose baseline is sequential). */
  sequential: boolean
  /** Printed under the table. */
  note?: string
  /** Entries to insert before the process starts (untimed). */
  populate?: (n: number, scale: number) => PopulateSpec[]
  raw: (store: RawKv, n: number, scale: number) => Measurement | Promise<Measurement>
  valkeyrie: (db: Valkeyrie, n: number, scale: number) => Promise<Measurement>
}

/** Operation count of a workload at `scale` (at least 1). */
export const countAt = (base: number, scale: number): number => Math.max(1, Math.round(base * scale))

/** Warm-up operations: up to `most` of the same kind, never more than the workload itself. */
const warm = (n: number, most: number): number => Math.min(n, most)

/** Deterministic PRNG (mulberry32), so both contenders read the same keys in the same order. */
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

function randomKeys(prefix: string, population: number, count: number, seed: number): KvKey[] {
  const next = random(seed)
  return Array.from({ length: count }, () => entryKey(prefix, Math.floor(next() * population)))
}

const keysOf = (prefix: string, n: number): KvKey[] => Array.from({ length: n }, (_, i) => entryKey(prefix, i))
const valuesOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => entryValue(prefix, i))

export interface Timer {
  wall: number
  cpu: NodeJS.CpuUsage
}

export const startTimer = (): Timer => ({ cpu: process.cpuUsage(), wall: performance.now() })

export function timed(ops: number, start: Timer): Measurement {
  const wall = performance.now()
  const cpu = process.cpuUsage(start.cpu)
  return { ops, seconds: (wall - start.wall) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`benchmark self-check failed: ${what}`)
}

type Small = { name: string; n: number } | null
const nOf = (value: unknown): number => (value as Small)?.n ?? -1

/** Entries under ['users', …] for the read workloads: as many as the workload has operations (min 10). */
const USERS_AT_SCALE_1 = 20_000
const usersAt = (scale: number): number => Math.max(10, countAt(USERS_AT_SCALE_1, scale))
const WARMUP_LIST = 1000
/**
 * Untimed write commits before a write workload. V8 finishes optimizing either contender's commit path only after
 * 2,000-4,000 commits (its compiler runs on a background thread, whose CPU time the process's usage counts): with
 * 1,000, the first timed commits of the longer path paid for its compilation.
 */
export const WARMUP_WRITES = 5_000
/**
 * Rounds of n concurrent sets timed together in concurrent-set (and as many untimed before them; the baseline warms
 * up with WARMUP_WRITES sets, the same count at scale 1 and below). One round is one group of 15-50 ms whose time
 * moves with where V8's compiler and garbage collector stand: a single round measured that more than group commit.
 */
export const CONCURRENT_ROUNDS = 5
/** Keys the hot-get workload reads over and over. */
export const HOT_KEYS = 10

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'seq-set',
    unit: 'set',
    base: 20_000,
    sequential: true,
    raw(store, n) {
      const [keys, values] = [keysOf('users', n), valuesOf('users', n)]
      for (let i = 0; i < warm(n, WARMUP_WRITES); i++) store.set(entryKey('warmup', i), entryValue('warmup', i))
      const start = startTimer()
      for (let i = 0; i < n; i++) store.set(keys[i]!, values[i])
      const m = timed(n, start)
      expect(nOf(store.get(keys[n - 1]!).value) === n - 1, 'last set readable')
      return m
    },
    async valkeyrie(db, n) {
      const [keys, values] = [keysOf('users', n), valuesOf('users', n)]
      for (let i = 0; i < warm(n, WARMUP_WRITES); i++) await db.set(entryKey('warmup', i), entryValue('warmup', i))
      const start = startTimer()
      for (let i = 0; i < n; i++) await db.set(keys[i]!, values[i])
      const m = timed(n, start)
      expect(nOf((await db.get(keys[n - 1]!)).value) === n - 1, 'last set readable')
      return m
    },
  },
  {
    name: 'random-get',
    unit: 'get',
    base: 20_000,
    sequential: true,
    populate: (_n, scale) => [{ prefix: 'users', count: usersAt(scale) }],
    raw(store, n, scale) {
      const keys = randomKeys('users', usersAt(scale), n, 1)
      for (const key of randomKeys('users', usersAt(scale), warm(n, 10_000), 2)) store.get(key)
      let found = 0
      const start = startTimer()
      for (let i = 0; i < n; i++) if (store.get(keys[i]!).value !== null) found++
      const m = timed(n, start)
      expect(found === n, `all ${n} keys found (found ${found})`)
      return m
    },
    async valkeyrie(db, n, scale) {
      const keys = randomKeys('users', usersAt(scale), n, 1)
      for (const key of randomKeys('users', usersAt(scale), warm(n, 10_000), 2)) await db.get(key)
      let found = 0
      const start = startTimer()
      for (let i = 0; i < n; i++) if ((await db.get(keys[i]!)).value !== null) found++
      const m = timed(n, start)
      expect(found === n, `all ${n} keys found (found ${found})`)
      return m
    },
  },
  {
    name: 'hot-get',
    unit: 'get',
    base: 20_000,
    sequential: true,
    note: `hot-get: ${HOT_KEYS} keys among the prepopulated ones, read over and over (nothing writes meanwhile)`,
    populate: (_n, scale) => [{ prefix: 'users', count: usersAt(scale) }],
    raw(store, n, scale) {
      const hot = randomKeys('users', usersAt(scale), HOT_KEYS, 5)
      for (let i = 0; i < warm(n, 10_000); i++) store.get(hot[i % HOT_KEYS]!)
      let found = 0
      const start = startTimer()
      for (let i = 0; i < n; i++) if (store.get(hot[i % HOT_KEYS]!).value !== null) found++
      const m = timed(n, start)
      expect(found === n, `all ${n} keys found (found ${found})`)
      return m
    },
    async valkeyrie(db, n, scale) {
      const hot = randomKeys('users', usersAt(scale), HOT_KEYS, 5)
      for (let i = 0; i < warm(n, 10_000); i++) await db.get(hot[i % HOT_KEYS]!)
      let found = 0
      const start = startTimer()
      for (let i = 0; i < n; i++) if ((await db.get(hot[i % HOT_KEYS]!)).value !== null) found++
      const m = timed(n, start)
      expect(found === n, `all ${n} keys found (found ${found})`)
      return m
    },
  },
  {
    name: 'get-many',
    unit: 'getMany of 10 keys',
    base: 2_000,
    sequential: true,
    populate: (_n, scale) => [{ prefix: 'users', count: usersAt(scale) }],
    raw(store, n, scale) {
      const keys = randomKeys('users', usersAt(scale), n * 10, 3)
      const batches = Array.from({ length: n }, (_, i) => keys.slice(i * 10, i * 10 + 10))
      const warmups = randomKeys('users', usersAt(scale), warm(n, 1000) * 10, 4)
      for (let i = 0; i < warm(n, 1000); i++) store.getMany(warmups.slice(i * 10, i * 10 + 10))
      let found = 0
      const start = startTimer()
      for (let i = 0; i < n; i++) for (const entry of store.getMany(batches[i]!)) if (entry.value !== null) found++
      const m = timed(n, start)
      expect(found === n * 10, `all ${n * 10} keys found (found ${found})`)
      return m
    },
    async valkeyrie(db, n, scale) {
      const keys = randomKeys('users', usersAt(scale), n * 10, 3)
      const batches = Array.from({ length: n }, (_, i) => keys.slice(i * 10, i * 10 + 10))
      const warmups = randomKeys('users', usersAt(scale), warm(n, 1000) * 10, 4)
      for (let i = 0; i < warm(n, 1000); i++) await db.getMany(warmups.slice(i * 10, i * 10 + 10))
      let found = 0
      const start = startTimer()
      for (let i = 0; i < n; i++) for (const entry of await db.getMany(batches[i]!)) if (entry.value !== null) found++
      const m = timed(n, start)
      expect(found === n * 10, `all ${n * 10} keys found (found ${found})`)
      return m
    },
  },
  {
    name: 'list-prefix',
    unit: 'entry listed',
    base: 20_000,
    sequential: true,
    note: 'list-prefix: a prefix of 20,000 entries (at scale 1) listed 5 times; one op = one entry listed',
    populate: (n) => [
      { prefix: 'users', count: n },
      { prefix: 'warmup', count: warm(n, WARMUP_LIST) },
    ],
    raw(store, n) {
      for (let round = 0; round < 5; round++) for (const _ of store.list(['warmup']));
      let count = 0
      let sum = 0
      const start = startTimer()
      for (let round = 0; round < 5; round++) {
        for (const entry of store.list(['users'])) {
          count++
          sum += nOf(entry.value)
        }
      }
      const m = timed(count, start)
      expect(count === 5 * n && sum === 5 * ((n * (n - 1)) / 2), `listed ${count} of ${5 * n}`)
      return m
    },
    async valkeyrie(db, n) {
      for (let round = 0; round < 5; round++) for await (const _ of db.list({ prefix: ['warmup'] }));
      let count = 0
      let sum = 0
      const start = startTimer()
      for (let round = 0; round < 5; round++) {
        for await (const entry of db.list({ prefix: ['users'] })) {
          count++
          sum += nOf(entry.value)
        }
      }
      const m = timed(count, start)
      expect(count === 5 * n && sum === 5 * ((n * (n - 1)) / 2), `listed ${count} of ${5 * n}`)
      return m
    },
  },
  {
    name: 'atomic-sum',
    unit: 'sum commit',
    base: 5_000,
    sequential: true,
    raw(store, n) {
      for (let i = 0; i < warm(n, WARMUP_WRITES); i++) store.sum(['warmup-counter'], 1n)
      const start = startTimer()
      for (let i = 0; i < n; i++) store.sum(['counter'], 1n)
      const m = timed(n, start)
      expect(store.get(['counter']).value === BigInt(n), 'counter reached n')
      return m
    },
    async valkeyrie(db, n) {
      for (let i = 0; i < warm(n, WARMUP_WRITES); i++) await db.atomic().sum(['warmup-counter'], 1n).commit()
      const start = startTimer()
      for (let i = 0; i < n; i++) await db.atomic().sum(['counter'], 1n).commit()
      const m = timed(n, start)
      const value = (await db.get<KvU64>(['counter'])).value
      expect(value?.value === BigInt(n), 'counter reached n')
      return m
    },
  },
  {
    name: 'check-and-set',
    unit: 'get + checked commit',
    base: 5_000,
    sequential: true,
    raw(store, n) {
      const step = (key: KvKey): void => {
        const entry = store.get(key)
        const ok = store.checkAndSet(key, entry.versionstamp, { n: nOf(entry.value) + 1 })
        expect(ok !== null, 'check passed')
      }
      for (let i = 0; i < warm(n, WARMUP_WRITES); i++) step(['warmup-cas'])
      const start = startTimer()
      for (let i = 0; i < n; i++) step(['cas'])
      const m = timed(n, start)
      // The first step finds nothing (n = -1 + 1 = 0), so after n steps the value is n - 1.
      expect(nOf(store.get(['cas']).value) === n - 1, 'n checked sets applied')
      return m
    },
    async valkeyrie(db, n) {
      const step = async (key: KvKey): Promise<void> => {
        const entry = await db.get(key)
        const result = await db.atomic().check(entry).set(key, { n: nOf(entry.value) + 1 }).commit()
        expect(result.ok, 'check passed')
      }
      for (let i = 0; i < warm(n, WARMUP_WRITES); i++) await step(['warmup-cas'])
      const start = startTimer()
      for (let i = 0; i < n; i++) await step(['cas'])
      const m = timed(n, start)
      expect(nOf((await db.get(['cas'])).value) === n - 1, 'n checked sets applied')
      return m
    },
  },
  {
    name: 'big-atomic',
    unit: 'commit of 1,000 sets',
    base: 20,
    sequential: true,
    raw(store, n) {
      const batch = (prefix: string, b: number) =>
        Array.from({ length: 1000 }, (_, i) => [entryKey(prefix, b * 1000 + i), entryValue(prefix, b * 1000 + i)] as const)
      for (let b = 0; b < warm(n, 3); b++) store.setMany(batch('warmup', b))
      const batches = Array.from({ length: n }, (_, b) => batch('items', b))
      const start = startTimer()
      for (const entries of batches) store.setMany(entries)
      const m = timed(n, start)
      expect(nOf(store.get(entryKey('items', n * 1000 - 1)).value) === n * 1000 - 1, 'last batch written')
      return m
    },
    async valkeyrie(db, n) {
      const batch = (prefix: string, b: number) =>
        Array.from({ length: 1000 }, (_, i) => [entryKey(prefix, b * 1000 + i), entryValue(prefix, b * 1000 + i)] as const)
      const commit = async (entries: ReturnType<typeof batch>) => {
        const op = db.atomic()
        for (const [key, value] of entries) op.set(key, value)
        expect((await op.commit()).ok, 'commit ok')
      }
      for (let b = 0; b < warm(n, 3); b++) await commit(batch('warmup', b))
      const batches = Array.from({ length: n }, (_, b) => batch('items', b))
      const start = startTimer()
      for (const entries of batches) await commit(entries)
      const m = timed(n, start)
      expect(nOf((await db.get(entryKey('items', n * 1000 - 1))).value) === n * 1000 - 1, 'last batch written')
      return m
    },
  },
  {
    name: 'concurrent-set',
    unit: 'set',
    base: 1_000,
    sequential: false,
    note:
      `concurrent-set: Valkeyrie starts n sets together and awaits Promise.all (group commit: one transaction), ` +
      `${CONCURRENT_ROUNDS} rounds timed together; the raw baseline has no concurrency and does as many sets as ` +
      'sequential commits, so its ratio is not a like-for-like comparison',
    raw(store, n) {
      const count = n * CONCURRENT_ROUNDS
      const [keys, values] = [keysOf('conc', count), valuesOf('conc', count)]
      for (let i = 0; i < warm(count, WARMUP_WRITES); i++) store.set(entryKey('warmup', i), entryValue('warmup', i))
      const start = startTimer()
      for (let i = 0; i < count; i++) store.set(keys[i]!, values[i])
      const m = timed(count, start)
      expect(nOf(store.get(keys[count - 1]!).value) === count - 1, 'last set readable')
      return m
    },
    async valkeyrie(db, n) {
      const count = n * CONCURRENT_ROUNDS
      const [keys, values] = [keysOf('conc', count), valuesOf('conc', count)]
      // Round `r`: n sets started together, from the inputs given; the results are checked after the clock stops.
      const results: { ok: boolean }[][] = []
      const round = async (inputs: { keys: KvKey[]; values: unknown[] }, r: number): Promise<void> => {
        results.push(await Promise.all(Array.from({ length: n }, (_, i) => db.set(inputs.keys[r * n + i]!, inputs.values[r * n + i]))))
      }
      const warmup = { keys: keysOf('warmup', count), values: valuesOf('warmup', count) }
      for (let r = 0; r < CONCURRENT_ROUNDS; r++) await round(warmup, r)
      const timedInputs = { keys, values }
      const start = startTimer()
      for (let r = 0; r < CONCURRENT_ROUNDS; r++) await round(timedInputs, r)
      const m = timed(count, start)
      expect(results.every((sets) => sets.every((result) => result.ok)), 'all sets ok')
      expect(nOf((await db.get(keys[count - 1]!)).value) === count - 1, 'last set readable')
      return m
    },
  },
  {
    name: 'list-1m',
    unit: 'entry listed',
    base: 1_000_000,
    sequential: true,
    note: 'list-1m: RSS growth = highest RSS sampled every 1,024 entries during the listing minus RSS just before it',
    populate: (n) => [
      { prefix: 'big', count: n },
      { prefix: 'warmup', count: warm(n, WARMUP_LIST) },
    ],
    raw(store, n) {
      for (let round = 0; round < 5; round++) for (const _ of store.list(['warmup']));
      let count = 0
      let sum = 0
      const rssBefore = process.memoryUsage.rss()
      let rssPeakDuring = rssBefore
      const start = startTimer()
      for (const entry of store.list(['big'])) {
        sum += nOf(entry.value)
        if ((++count & 1023) === 0) rssPeakDuring = Math.max(rssPeakDuring, process.memoryUsage.rss())
      }
      const m = timed(count, start)
      rssPeakDuring = Math.max(rssPeakDuring, process.memoryUsage.rss())
      expect(count === n && sum === (n * (n - 1)) / 2, `listed ${count} of ${n}`)
      return { ...m, rssBefore, rssPeakDuring }
    },
    async valkeyrie(db, n) {
      for (let round = 0; round < 5; round++) for await (const _ of db.list({ prefix: ['warmup'] }));
      let count = 0
      let sum = 0
      const rssBefore = process.memoryUsage.rss()
      let rssPeakDuring = rssBefore
      const start = startTimer()
      for await (const entry of db.list({ prefix: ['big'] })) {
        sum += nOf(entry.value)
        if ((++count & 1023) === 0) rssPeakDuring = Math.max(rssPeakDuring, process.memoryUsage.rss())
      }
      const m = timed(count, start)
      rssPeakDuring = Math.max(rssPeakDuring, process.memoryUsage.rss())
      expect(count === n && sum === (n * (n - 1)) / 2, `listed ${count} of ${n}`)
      return { ...m, rssBefore, rssPeakDuring }
    },
  },
]

export function workloadNamed(name: string): Workload {
  const workload = WORKLOADS.find((w) => w.name === name)
  if (!workload) throw new Error(`unknown workload ${JSON.stringify(name)}: one of ${WORKLOADS.map((w) => w.name).join(', ')}`)
  return workload
}
