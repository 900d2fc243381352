/**
 * Many client processes on one PostgreSQL database (a fresh schema per test on the run's server): exact counters,
 * one winner per race, an invariant across transfers, a client killed mid-commit, and simultaneous first opens.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KvU64 } from '../../src/index.js'
import { PG_IDLE_IN_TRANSACTION_MS } from '../../src/limits.js'
import { newSchemaName, postgres, postgresPlace, postgresUrl } from '../support/backends.js'
import { tempDir } from '../support/open-test-db.js'
import { POSTGRES_WORKER, runWorker, startWorker, type WorkerRun } from '../support/processes.js'

/** Runs a Postgres worker on `schema` to completion and gives its JSON result. */
async function run(command: string, schema: string, ...args: (string | number)[]): Promise<unknown> {
  const done: WorkerRun = await runWorker([command, postgresUrl(), schema, ...args.map(String)], 120_000, POSTGRES_WORKER)
  expect(done, done.stderr).toMatchObject({ code: 0 })
  return JSON.parse(done.stdout.trim().split('\n').at(-1) ?? 'null')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(postgres.unavailable !== undefined)('several processes on one Postgres database', () => {
  it('lets 8 processes open the same new schema at the same moment (migrations under an advisory lock)', async () => {
    const schema = newSchemaName('open')
    // All 8 started and waiting, then released together by one file.
    const go = join(tempDir(), 'go')
    const workers = Array.from({ length: 8 }, () => startWorker(['open', postgresUrl(), schema, go], POSTGRES_WORKER))
    const deadline = Date.now() + 60_000
    while (workers.some((w) => w.lines.length === 0) && Date.now() < deadline) await sleep(10)
    writeFileSync(go, '')
    for (const worker of workers) {
      const { code } = await worker.exited
      expect(code, worker.stderr()).toBe(0)
      expect(worker.lines).toEqual([{ ready: true }, { ok: true, versionstamp: expect.any(String) }])
    }
    const db = await placeIn(schema)
    expect(await Array.fromAsync(db.list({ prefix: ['opened'] }))).toHaveLength(8)
  })

  it('ends 4 processes × 250 atomic increments at exactly 1000', async () => {
    const schema = newSchemaName('inc')
    await Promise.all(Array.from({ length: 4 }, () => run('increment', schema, 250)))
    const db = await placeIn(schema)
    expect((await db.get<KvU64>(['counter'])).value?.value).toBe(1000n)
  })

  it('gives exactly one winner per round when 8 clients race check(null) for 150 rounds', async () => {
    const schema = newSchemaName('race')
    const rounds = 150
    const results = (await Promise.all(
      Array.from({ length: 8 }, (_, id) => run('race', schema, rounds, 8, id)),
    )) as { won: number[] }[]
    const winners = new Map<number, number[]>()
    results.forEach(({ won }, id) => won.forEach((round) => winners.set(round, [...(winners.get(round) ?? []), id])))
    for (let round = 0; round < rounds; round++) expect(winners.get(round), `round ${round}`).toHaveLength(1)
    const db = await placeIn(schema)
    const slots = await Array.fromAsync(db.list<number>({ prefix: ['slot'] }))
    expect(slots).toHaveLength(rounds)
    for (const slot of slots) expect([slot.value]).toEqual(winners.get(slot.key[1] as number))
    // Several clients won rounds: the races were real.
    expect(results.filter(({ won }) => won.length > 0).length).toBeGreaterThan(1)
  })

  it('keeps the bank total through 4 processes × 200 checked transfers, in every snapshot read', async () => {
    const schema = newSchemaName('bank')
    const db = await placeIn(schema)
    const op = db.atomic()
    for (let i = 0; i < 10; i++) op.set(['account', i], 1000)
    await op.commit()
    const results = (await Promise.all(Array.from({ length: 4 }, () => run('bank', schema, 200, 10_000)))) as {
      done: number
      retries: number
      audits: number
      badTotals: number[]
    }[]
    for (const result of results) {
      expect(result.badTotals).toEqual([])
      expect(result.audits).toBeGreaterThan(0)
    }
    const balances = (await Array.fromAsync(db.list<number>({ prefix: ['account'] }))).map((e) => e.value)
    expect(balances).toHaveLength(10)
    expect(balances.reduce((a, b) => a + b, 0)).toBe(10_000)
    expect(balances.every((b) => b >= 0)).toBe(true)
    // The processes did conflict, and the checks caught it.
    expect(results.reduce((sum, r) => sum + r.retries, 0)).toBeGreaterThan(0)
  })

  it('leaves no partial commit of a client killed with SIGKILL mid-commit, and the others go on', async () => {
    const schema = newSchemaName('kill')
    const db = await placeIn(schema)
    await db.set(['ready'], true) // the schema exists before the workers start
    const KEYS = 20
    const steady = Array.from({ length: 2 }, (_, id) => run('steady', schema, 8000, id))
    const writer = startWorker(['crash-writer', postgresUrl(), schema, '0', String(KEYS), '4'], POSTGRES_WORKER)
    const deadline = Date.now() + 60_000
    while (writer.lines.length < 40 && Date.now() < deadline) await sleep(10)
    expect(writer.lines.length, writer.stderr()).toBeGreaterThanOrEqual(40)
    await sleep(Math.random() * 50)
    writer.child.kill('SIGKILL')
    const exit = await writer.exited
    expect(exit.signal).toBe('SIGKILL')
    const acknowledged = (writer.lines as { seq: number }[]).map((line) => line.seq)
    const stillRunning = (await Promise.all(steady)) as { commits: number; latencies: number[] }[]

    // Every commit is there whole or not at all; every acknowledged one is there; ['commits'] counts them.
    const rows = await Array.fromAsync(db.list({ prefix: ['c'] }))
    const keysPerSeq = new Map<number, number>()
    for (const row of rows) keysPerSeq.set(row.key[1] as number, (keysPerSeq.get(row.key[1] as number) ?? 0) + 1)
    for (const [seq, keys] of keysPerSeq) expect(keys, `commit ${seq}`).toBe(KEYS)
    for (const seq of acknowledged) expect(keysPerSeq.has(seq), `acknowledged commit ${seq}`).toBe(true)
    expect((await db.get<KvU64>(['commits'])).value?.value).toBe(BigInt(keysPerSeq.size))
    // The others kept committing, none waiting longer than the server's idle-in-transaction timeout (and slack).
    for (const { commits, latencies } of stillRunning) {
      expect(commits).toBeGreaterThan(10)
      expect(Math.max(...latencies)).toBeLessThan(PG_IDLE_IN_TRANSACTION_MS + 3000)
    }
    expect((await db.get<KvU64>(['steady'])).value?.value).toBe(
      BigInt(stillRunning.reduce((sum, r) => sum + r.commits, 0)),
    )
  })
})

/** The database in `schema` of the run's server, opened in this process; closed, and the schema dropped, after the test. */
const placeIn = (schema: string) => postgresPlace(schema).open()
