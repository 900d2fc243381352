/**
 * Group commit keeps isolation: commits submitted together (one group, one transaction) give exactly the
 * results, versionstamps and final state of the same commits run one by one.
 */
import { statSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type KvCommitError, type KvCommitResult, KvU64, type Valkeyrie } from '../../src/index.js'
import { describeBackends } from '../support/backends.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'

type Step =
  | { kind: 'cas'; key: number; expect: 'seed' | 'null' | 'stale'; value: number }
  | { kind: 'sum'; key: number; by: bigint }
  | { kind: 'set'; key: number; value: number }
  | { kind: 'delete'; key: number }
  | { kind: 'bad-sum'; key: number }

const KEYS = 4

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('cas' as const), key: fc.nat(KEYS - 1), expect: fc.constantFrom('seed' as const, 'null' as const, 'stale' as const), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant('sum' as const), key: fc.nat(KEYS - 1), by: fc.bigInt({ min: -5n, max: 5n }) }),
  fc.record({ kind: fc.constant('set' as const), key: fc.nat(KEYS - 1), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(KEYS - 1) }),
  fc.record({ kind: fc.constant('bad-sum' as const), key: fc.nat(KEYS - 1) }),
)

/** The same starting state in every database: counters, plain values, and the versionstamps seen at the start. */
async function seed(db: Valkeyrie): Promise<string[]> {
  const stamps: string[] = []
  for (let k = 0; k < KEYS; k++) {
    await db.set(['c', k], new KvU64(BigInt(k)))
    stamps.push((await db.set(['v', k], k)).versionstamp)
  }
  await db.set(['text'], 'not a counter')
  return stamps
}

function commit(db: Valkeyrie, s: Step, stamps: readonly string[]): Promise<KvCommitResult | KvCommitError> {
  switch (s.kind) {
    case 'cas': {
      const versionstamp = s.expect === 'seed' ? (stamps[s.key] as string) : s.expect === 'null' ? null : '00000000000000000000'
      return db.atomic().check({ key: ['v', s.key], versionstamp }).set(['v', s.key], s.value).sum(['c', s.key], 1n).commit()
    }
    case 'sum':
      return db.atomic().sum(['c', s.key], s.by).commit()
    case 'set':
      return db.atomic().set(['v', s.key], s.value).commit()
    case 'delete':
      return db.atomic().delete(['v', s.key]).delete(['c', s.key]).commit()
    case 'bad-sum':
      return db.atomic().set(['c', s.key], new KvU64(99n)).sum(['text'], 1n).commit()
  }
}

const outcome = (r: PromiseSettledResult<KvCommitResult | KvCommitError>) =>
  r.status === 'fulfilled' ? r.value : { rejected: (r.reason as Error).name }

async function snapshot(db: Valkeyrie) {
  return (await Array.fromAsync(db.list({ prefix: [] }))).map((e) => [e.key, e.value, e.versionstamp])
}

describeBackends('group commit', (backend) => {
  it('gives interleaved conflicting commits in one group the results of running them one by one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const grouped = await backend.open()
        const sequential = await backend.open()
        const stampsA = await seed(grouped)
        const stampsB = await seed(sequential)
        expect(stampsA).toEqual(stampsB)
        // All submitted in one turn: one group, one transaction.
        const together = await Promise.allSettled(steps.map((s) => commit(grouped, s, stampsA)))
        const oneByOne: PromiseSettledResult<KvCommitResult | KvCommitError>[] = []
        for (const s of steps) oneByOne.push(...(await Promise.allSettled([commit(sequential, s, stampsB)])))
        expect(together.map(outcome)).toEqual(oneByOne.map(outcome))
        expect(await snapshot(grouped)).toEqual(await snapshot(sequential))
        await grouped.close()
        await sequential.close()
      }),
      // Fewer cases where each commit costs a flush or a round trip (two fresh databases per case).
      { numRuns: backend.slow ? 40 : 150 },
    )
    // 80 databases opened (and connected) on a slow backend: about 20 s on a busy 2-core machine.
  }, backend.slow ? 120_000 : undefined)

  it('commits a group in one transaction and makes each promise wait for it', async () => {
    const db = await backend.open()
    const pending = Array.from({ length: 200 }, (_, i) => db.set(['g', i], i))
    const results = await Promise.all(pending)
    const stamps = results.map((r) => r.versionstamp)
    expect(new Set(stamps).size).toBe(200)
    expect([...stamps].sort()).toEqual(stamps)
    expect(await Array.fromAsync(db.list({ prefix: ['g'] }))).toHaveLength(200)
  })

})

describe('group commit on a SQLite file', () => {
  it('bounds a group, so 150 concurrent large commits leave a small WAL', async () => {
    const path = tempDbPath()
    const db = await openTestDb(path, { durability: 'relaxed' })
    // 12 values of 65,000 bytes: about 780 KB per commit, 117 MB in all.
    const commits = Array.from({ length: 150 }, (_, c) => {
      const op = db.atomic()
      for (let i = 0; i < 12; i++) op.set(['big', c, i], new Uint8Array(65_000).fill(c))
      return op.commit()
    })
    const results = await Promise.all(commits)
    expect(results.every((r) => r.ok)).toBe(true)
    const wal = statSync(`${path}-wal`).size
    expect(wal).toBeLessThan(16 * 1024 * 1024)
    const last = await db.get<Uint8Array>(['big', 149, 11])
    expect(last.value?.[0]).toBe(149)
  }, 60_000)
})
