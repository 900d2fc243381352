import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Valkeyrie } from '../../src/index.js'
import { newSchemaName, postgres, postgresPlace, postgresUrl } from '../support/backends.js'
import { tempDbPath } from '../support/open-test-db.js'
import { type StartedWorker, startWorker } from '../support/processes.js'

const WORKER = fileURLToPath(new URL('../support/queue-worker.ts', import.meta.url))
const MESSAGES = 10_000
const CONSUMERS = 4

const running: StartedWorker[] = []
afterEach(() => {
  for (const worker of running.splice(0)) worker.child.kill('SIGKILL')
})

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function start(command: string, target: string, schema: string): Promise<StartedWorker> {
  const worker = startWorker([command, target, schema], WORKER)
  running.push(worker)
  await until(() => worker.lines.length > 0 || worker.child.exitCode !== null, 60_000, 'a worker to be ready')
  if (worker.child.exitCode !== null) throw new Error(`worker failed: ${worker.stderr()}`)
  return worker
}

interface Target {
  name: string
  skip?: string | undefined
  /** The target and schema arguments of the worker, and an open of the same database. */
  make(): { target: string; schema: string; open: () => Promise<Valkeyrie> }
}

const targets: Target[] = [
  {
    name: 'sqlite file',
    make: () => {
      const path = tempDbPath()
      return { target: path, schema: '-', open: () => Valkeyrie.open(path) }
    },
  },
  {
    name: 'postgres',
    skip: postgres.unavailable,
    make: () => {
      const schema = newSchemaName('q')
      postgresPlace(schema)
      return { target: postgresUrl(), schema, open: () => Valkeyrie.open(postgresUrl(), { schema }) }
    },
  },
]

for (const t of targets) {
  describe.skipIf(t.skip !== undefined)(`queue across processes (${t.name})`, () => {
    it(`${CONSUMERS} consumer processes share ${MESSAGES} messages: every one handled, none twice`, async () => {
      const { target, schema, open } = t.make()
      const db = await open()
      const workers = await Promise.all(Array.from({ length: CONSUMERS }, () => start('consume', target, schema)))
      // Enqueued while they listen, from this process, in commits of 500.
      for (let i = 0; i < MESSAGES; i += 500) {
        const atomic = db.atomic()
        for (let j = i; j < i + 500; j++) atomic.enqueue(j)
        expect((await atomic.commit()).ok).toBe(true)
      }
      const handled = () => workers.flatMap((w) => w.lines.filter((l) => 'handled' in (l as object)).map((l) => (l as { handled: number }).handled))
      await until(() => handled().length >= MESSAGES, 240_000, 'every message')
      await new Promise((resolve) => setTimeout(resolve, 500))
      for (const w of workers) w.child.kill('SIGTERM')
      await Promise.all(workers.map((w) => w.exited))
      const all = handled()
      expect(all).toHaveLength(MESSAGES)
      expect(new Set(all).size).toBe(MESSAGES)
      // Every consumer took a share.
      for (const w of workers) expect(w.lines.length).toBeGreaterThan(1)
      await db.close()
    })

    it('a consumer killed with SIGKILL mid-handler has its message delivered again after the lease', async () => {
      const { target, schema, open } = t.make()
      const hung = await start('hang', target, schema)
      const db = await open()
      await db.enqueue('precious')
      await until(() => hung.lines.length > 1, 30_000, 'the hanging consumer to take the message')
      const killedAt = Date.now()
      hung.child.kill('SIGKILL')
      await hung.exited
      const got: { value: unknown; at: number }[] = []
      void db.listenQueue((value) => {
        got.push({ value, at: Date.now() })
      })
      await until(() => got.length > 0, 30_000, 'the redelivery')
      expect(got[0]!.value).toBe('precious')
      // Not before the lease (5 s from the claim) has run out.
      expect(got[0]!.at - killedAt).toBeGreaterThan(2_000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(got).toHaveLength(1)
      await db.close()
    })
  })
}
