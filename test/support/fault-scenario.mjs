/**
 * One scenario of the syscall fault suite (test/faults/syscalls.test.ts), run under strace:
 * `node test/support/fault-scenario.mjs <library entry> <scenario> <path> [durability]`.
 *
 * Plain JavaScript over the built library, so that each of the hundreds of runs starts in a fraction of a second.
 * It prints one JSON line per operation as soon as its outcome is known (`{ op, ok: true, versionstamp }` or
 * `{ op, ok: false, error: <class name> }`), then `{ end: true }`, and then kills itself with SIGKILL rather than
 * closing (except in the `close` scenario): what the file holds after that is what a crash would leave.
 */
import { pathToFileURL } from 'node:url'

const [entry, scenario, path, durability = 'full'] = process.argv.slice(2)
const { Valkeyrie } = await import(pathToFileURL(entry).href)

/** Fixed times, so that every run of a scenario makes the same syscalls. */
const T0 = 1_700_000_000_000
const clock = () => T0 + 10_000

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`)

/** Runs one operation and prints its outcome; a rejection is reported, not thrown. */
async function step(op, run) {
  try {
    const result = await run()
    print({ op, ok: true, versionstamp: result?.versionstamp ?? null })
  } catch (error) {
    print({ op, ok: false, error: error?.name ?? String(error), message: error?.message })
  }
}

const open = (options = {}) => Valkeyrie.open(path, { durability, sweepInterval: 0, clock, ...options })

async function usersOf(db) {
  const { z } = await import('zod')
  return db.collection(['users'], z.object({ name: z.string(), email: z.string() }), {
    indexes: { email: { on: (user) => user.email, unique: true } },
  })
}

const scenarios = {
  /** Creates and migrates a new file, then commits once. */
  async 'first-open'() {
    const db = await open()
    print({ op: 'open', ok: true })
    await step('c1', () => db.set(['s', 'c1'], 'one'))
  },
  /** On an existing file: a single commit, a group of three, and a multi-key atomic commit. */
  async commit() {
    const db = await open()
    await step('c1', () => db.set(['s', 'c1'], 'one'))
    await Promise.all([2, 3, 4].map((i) => step(`c${i}`, () => db.set(['s', `c${i}`], i))))
    await step('c5', () => db.atomic().set(['s', 'c5', 0], 'a').set(['s', 'c5', 1], 'b').sum(['s', 'count'], 1n).commit())
  },
  /** Writes through a unique index: a new record, a moved value, the freed value taken, a delete. */
  async unique() {
    const db = await open()
    const users = await usersOf(db)
    await step('u1', () => users.set('eve', { name: 'Eve', email: 'eve@example.com' }))
    await step('u2', () => users.set('ada', { name: 'Ada', email: 'countess@example.com' }))
    await step('u3', () => users.set('carl', { name: 'Carl', email: 'ada@example.com' }))
    await step('u4', () => users.delete('bob'))
  },
  /** Deletes the expired rows of an existing file. */
  async sweep() {
    const db = await open()
    await step('sweep', () => db.cleanup())
  },
  /** Another process: commits (so the WAL holds frames), then keeps a read transaction on them until killed. */
  async reader() {
    const db = await open()
    await step('reader', () => db.set(['reader'], true))
    const { default: Database } = await import('better-sqlite3')
    const raw = new Database(path)
    raw.exec('BEGIN')
    raw.prepare('SELECT count(*) FROM kv').get()
    print({ op: 'reading', ok: true })
    // The interval keeps the connection referenced: collected, it would close and end the read transaction.
    await new Promise(() => setInterval(() => raw.inTransaction || process.exit(3), 1000))
  },
  /** Commits, then closes (a checkpoint of the WAL into the file); exits normally. */
  async close() {
    const db = await open()
    await step('c1', () => db.set(['s', 'c1'], 'one'))
    await step('close', () => db.close())
    print({ end: true })
  },
}

/** What a scenario's file holds before it runs (written by the test once, with `fault-scenario.mjs setup`). */
async function setup() {
  const db = await Valkeyrie.open(path, { sweepInterval: 0, clock: () => T0 })
  const users = await usersOf(db)
  await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
  await users.set('bob', { name: 'Bob', email: 'bob@example.com' })
  for (let i = 0; i < 10; i++) await db.set(['live', i], i)
  const expiring = db.atomic()
  for (let i = 0; i < 40; i++) expiring.set(['expiring', i], i, { expireIn: 1000 })
  await expiring.commit()
  await db.close()
}

if (scenario === 'setup') {
  await setup()
} else {
  const run = scenarios[scenario]
  if (!run) throw new Error(`unknown scenario ${scenario}`)
  try {
    await run()
  } catch (error) {
    print({ op: 'scenario', ok: false, error: error?.name ?? String(error), message: error?.message })
  }
  if (scenario !== 'close') {
    print({ end: true })
    process.kill(process.pid, 'SIGKILL')
  }
}
