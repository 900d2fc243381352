/**
 * The server crashes under a write stream: `pg_ctl stop -m immediate` (no checkpoint; recovery replays the WAL),
 * then a restart, on a server of this test's own (the run's shared one is not stopped under the other tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { CommitUnknownResultError, KvU64, StorageError, Valkeyrie } from '../../src/index.js'
import { postgres } from '../support/backends.js'
import { POSTGRES_WORKER, startWorker } from '../support/processes.js'
import { findServerBin, postgresRequired, skipLine, startThrowawayServer, type ThrowawayServer } from '../support/postgres.js'

const bin = findServerBin()
if (!bin && postgres.unavailable === undefined && postgresRequired()) {
  throw new Error(skipLine('the restart test stops a server of its own, and no PostgreSQL server binaries were found'))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

let server: ThrowawayServer | undefined
afterEach(async () => {
  await server?.remove()
  server = undefined
})

/** A stream of commits on `db` by 4 writers, each `set(['s', seq])` + `sum(['n'])`, recording what was acknowledged and what failed. */
function writeStream(db: Valkeyrie) {
  const acknowledged = new Map<number, string>()
  const failed: { seq: number; error: unknown }[] = []
  let next = 0
  let running = true
  const writer = async () => {
    while (running) {
      const seq = next++
      try {
        const result = await db.atomic().set(['s', seq], seq).sum(['n'], 1n).commit()
        if (!result.ok) throw new Error('unexpected failed commit')
        acknowledged.set(seq, result.versionstamp)
      } catch (error) {
        failed.push({ seq, error })
        await sleep(20)
      }
    }
  }
  const writers = Array.from({ length: 4 }, writer)
  return {
    acknowledged,
    failed,
    stop: async () => {
      running = false
      await Promise.all(writers)
    },
  }
}

/** What a stream left: failures are StorageErrors, definite failures were not applied, acknowledged commits were. */
async function checkStream(db: Valkeyrie, { acknowledged, failed }: ReturnType<typeof writeStream>): Promise<void> {
  for (const { error } of failed) expect(error).toBeInstanceOf(StorageError)
  const present = new Set((await Array.fromAsync(db.list<number>({ prefix: ['s'] }))).map((e) => e.value))
  for (const { seq, error } of failed) {
    if (!(error instanceof CommitUnknownResultError)) expect(present.has(seq), `failed commit ${seq}`).toBe(false)
  }
  for (const [seq, versionstamp] of acknowledged) {
    expect((await db.get(['s', seq])).versionstamp, `acknowledged commit ${seq}`).toBe(versionstamp)
  }
  expect((await db.get<KvU64>(['n'])).value?.value).toBe(BigInt(present.size))
  expect(new Set(acknowledged.values()).size).toBe(acknowledged.size)
}

describe.skipIf(!bin)('a Postgres server that ends connections under a write stream', () => {
  it('rejects the commits on connections the server terminates with StorageError, and the same instance goes on', async () => {
    server = await startThrowawayServer(bin as string)
    const db = await Valkeyrie.open(server.url, { schema: 'terminate' })
    try {
      const stream = writeStream(db)
      await until(() => stream.acknowledged.size >= 100, 60_000, '100 commits')
      const killer = new pg.Client({ connectionString: server.url })
      await killer.connect()
      try {
        for (let round = 0; round < 5; round++) {
          await killer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'valkeyrie'")
          const at = stream.acknowledged.size
          await until(() => stream.acknowledged.size >= at + 20, 30_000, '20 commits after the connections were ended')
        }
      } finally {
        await killer.end()
      }
      await stream.stop()
      expect(stream.failed.length).toBeGreaterThan(0)
      await checkStream(db, stream)
    } finally {
      await db.close()
    }
  })
})

describe.skipIf(!bin)('a Postgres server stopped with pg_ctl stop -m immediate and restarted under a write stream', () => {
  it('keeps every acknowledged commit, rejects the in-flight ones with StorageError, and the same instance goes on', async () => {
    server = await startThrowawayServer(bin as string)
    const db = await Valkeyrie.open(server.url, { schema: 'restart' })
    try {
      const stream = writeStream(db)
      await until(() => stream.acknowledged.size >= 200, 60_000, '200 commits before the crash')
      const stampsBefore = [...stream.acknowledged.values()]
      await server.stop('immediate')
      await until(() => stream.failed.length >= 4, 30_000, 'the in-flight commits to fail')
      await sleep(300) // writes go on failing while the server is down
      await server.start()
      const atRestart = stream.acknowledged.size
      await until(() => stream.acknowledged.size >= atRestart + 200, 60_000, '200 commits after the restart')
      await stream.stop()
      await checkStream(db, stream)
      // Versionstamps after the restart are above every one before it.
      const stampsAfter = [...stream.acknowledged.values()].slice(atRestart)
      expect(stampsAfter.length).toBeGreaterThanOrEqual(200)
      expect(stampsAfter.every((stamp) => stampsBefore.every((before) => stamp > before))).toBe(true)
    } finally {
      await db.close()
    }
  })
})

describe.skipIf(!bin)('an application process while its Postgres server crashes and restarts', () => {
  for (const pool of ["Valkeyrie's own pool", "the application's pool"]) {
    it(`survives on ${pool}: its commits fail with StorageError while the server is down, and succeed again after`, async () => {
      server = await startThrowawayServer(bin as string)
      const stop = join(mkdtempSync(join(tmpdir(), 'valkeyrie-stream-')), 'stop')
      const args = ['stream', server.url, 'app', stop, ...(pool.startsWith('the app') ? ['own-pool'] : [])]
      const app = startWorker(args, POSTGRES_WORKER)
      try {
        await until(() => app.lines.length > 0 || app.child.exitCode !== null, 60_000, 'the application to commit')
        await server.stop('immediate')
        await sleep(500)
        await server.start()
        await sleep(1500)
        writeFileSync(stop, '')
        const { code } = await app.exited
        expect(code, app.stderr()).toBe(0)
        const result = app.lines.at(-1) as { acknowledged: number; failures: Record<string, number> }
        expect(result.acknowledged).toBeGreaterThan(50)
        for (const name of Object.keys(result.failures)) expect(['StorageError', 'CommitUnknownResultError']).toContain(name)
      } finally {
        app.child.kill('SIGKILL')
        rmSync(dirname(stop), { recursive: true, force: true })
      }
    })
  }
})
