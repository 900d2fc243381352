/**
 * Crash: a child process streams multi-key atomic commits and prints each acknowledged versionstamp; it is killed
 * with SIGKILL at a random moment, round after round, on the same file. After every kill the file must pass
 * `PRAGMA integrity_check`, hold every acknowledged commit, show no commit partly, and keep versionstamps rising.
 */
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { type KvEntry, KvU64, Valkeyrie } from '../../src/index.js'
import { startWorker } from '../support/processes.js'
import { tempDbPath } from '../support/open-test-db.js'

const ROUNDS = 30
const KEYS_PER_COMMIT = 5

interface Ack {
  seq: number
  versionstamp: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('crash safety', () => {
  it(`keeps every acknowledged commit and no partial one across ${ROUNDS} SIGKILLs`, async () => {
    const path = tempDbPath('crash.db')
    let lastStamp = ''
    let totalAcked = 0
    let nextSeq = 0
    for (let round = 0; round < ROUNDS; round++) {
      const durability = round % 3 === 2 ? 'relaxed' : 'full'
      const worker = startWorker(['crash-writer', path, String(nextSeq), durability])
      // Kill at a random moment once it is writing: after 1 to 400 acknowledged commits' worth of time.
      const deadline = Date.now() + 20_000
      while (worker.lines.length === 0 && Date.now() < deadline && worker.child.exitCode === null) await sleep(5)
      expect(worker.lines.length, `round ${round}: the writer never acknowledged a commit: ${worker.stderr()}`).toBeGreaterThan(0)
      await sleep(Math.floor(Math.random() * 300))
      worker.child.kill('SIGKILL')
      const { signal } = await worker.exited
      expect(signal).toBe('SIGKILL')
      const acked = worker.lines as Ack[]
      totalAcked += acked.length

      const raw = new Database(path)
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok')
      raw.close()

      const db = await Valkeyrie.open(path)
      try {
        const entries = await Array.fromAsync(db.list<{ seq: number; j: number }>({ prefix: ['c'] }))
        const bySeq = new Map<number, KvEntry<{ seq: number; j: number }>[]>()
        for (const entry of entries) {
          const seq = entry.key[1] as number
          bySeq.set(seq, [...(bySeq.get(seq) ?? []), entry])
        }
        // No commit is partly visible: every commit present has all its keys, under one versionstamp.
        for (const [seq, group] of bySeq) {
          expect(group, `commit ${seq}`).toHaveLength(KEYS_PER_COMMIT)
          expect(new Set(group.map((e) => e.versionstamp)).size, `commit ${seq}`).toBe(1)
        }
        // The counter bumped in the same commits agrees with the commits present.
        expect((await db.get<KvU64>(['commits'])).value?.value).toBe(BigInt(bySeq.size))
        // Every acknowledged commit is there, with the versionstamp it was acknowledged with.
        for (const ack of acked) {
          expect(bySeq.get(ack.seq)?.[0]?.versionstamp, `acknowledged commit ${ack.seq}`).toBe(ack.versionstamp)
        }
        // Versionstamps keep rising after recovery.
        const highest = entries.reduce((max, e) => (e.versionstamp > max ? e.versionstamp : max), '')
        expect(highest >= lastStamp).toBe(true)
        const { versionstamp } = await db.set(['after-crash', round], true)
        expect(versionstamp > highest).toBe(true)
        lastStamp = versionstamp
        nextSeq = Math.max(nextSeq, ...bySeq.keys()) + 1000
      } finally {
        await db.close()
      }
    }
    console.log(`crash suite: ${ROUNDS} SIGKILL rounds, ${totalAcked} acknowledged commits checked`)
    expect(totalAcked).toBeGreaterThan(ROUNDS)
  })
})
