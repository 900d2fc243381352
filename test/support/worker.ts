/**
 * A child process for the multi-process and fault tests:
 * `node --import tsx test/support/worker.ts <command> <path> [argument] [durability]`.
 * Prints JSON lines: one per acknowledged commit for `crash-writer` (so the parent knows exactly what was
 * acknowledged before it kills the process), one with the result for the others.
 */
import { accessSync, constants, readdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { KvU64, Valkeyrie } from '../../src/index.js'
import { wrappedSqliteDriver } from './wrapped-sqlite.js'

const [command, path, argument, durability] = process.argv.slice(2)
const count = Number(argument ?? 0)

const print = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`)

/** `n` optimistic read-check-write increments of ['cas'], each retried until its check passes; returns the retries. */
async function checkAndSetLoop(db: Valkeyrie, n: number): Promise<number> {
  let retries = 0
  for (let i = 0; i < n; i++) {
    for (;;) {
      const entry = await db.get<number>(['cas'])
      const result = await db.atomic()
        .check({ key: ['cas'], versionstamp: entry.versionstamp })
        .set(['cas'], (entry.value ?? 0) + 1)
        .commit()
      if (result.ok) break
      retries++
    }
  }
  return retries
}

/** `n` atomic increments of ['counter']. */
async function incrementLoop(db: Valkeyrie, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const result = await db.atomic().sum(['counter'], new KvU64(1n)).commit()
    if (!result.ok) throw new Error('sum failed')
  }
}

/** Commits of 5 keys each (plus a counter), 4 in flight so groups form, until killed; `argument` is the first seq. */
async function crashWriter(): Promise<never> {
  const KEYS_PER_COMMIT = 5
  const IN_FLIGHT = 4
  const db = await Valkeyrie.open(path, { durability: durability === 'relaxed' ? 'relaxed' : 'full' })
  let next = count
  const commitForever = async (): Promise<never> => {
    for (;;) {
      const seq = next++
      const op = db.atomic().sum(['commits'], 1n)
      for (let j = 0; j < KEYS_PER_COMMIT; j++) op.set(['c', seq, j], { seq, j, pad: 'x'.repeat(200) })
      const result = await op.commit()
      if (!result.ok) throw new Error('unexpected failed commit')
      print({ seq, versionstamp: result.versionstamp })
    }
  }
  // Any failure ends the process with an error: the parent then sees a writer that stopped before its kill.
  await Promise.all(Array.from({ length: IN_FLIGHT }, commitForever))
  throw new Error('unreachable: the writers never stop')
}

/** `count` atomic increments of ['counter'], opened plainly or through a wrapped SQLite driver; returns their versionstamps. */
async function stampLoop(wrapped: boolean): Promise<string[]> {
  const db = await Valkeyrie.open(path, wrapped ? { driver: wrappedSqliteDriver } : {})
  const stamps: string[] = []
  for (let i = 0; i < count; i++) {
    const result = await db.atomic().sum(['counter'], new KvU64(1n)).commit()
    if (!result.ok) throw new Error('sum failed')
    stamps.push(result.versionstamp)
  }
  await db.close()
  return stamps
}

const commands: Record<string, () => Promise<unknown>> = {
  async open() {
    // `argument` is an epoch-ms start time shared by all the workers, so they open the file at the same moment.
    while (Date.now() < count) {}
    const db = await Valkeyrie.open(path)
    const result = await db.set(['opened', process.pid], true)
    await db.close()
    return result
  },
  async increment() {
    const db = await Valkeyrie.open(path)
    await incrementLoop(db, count)
    await db.close()
    return { done: count }
  },
  async 'check-and-set'() {
    const db = await Valkeyrie.open(path)
    const retries = await checkAndSetLoop(db, count)
    await db.close()
    return { done: count, retries }
  },
  async 'mixed-writer'() {
    const db = await Valkeyrie.open(path, { busyTimeout: 10_000 })
    let retries = 0
    for (let i = 0; i < count; i++) {
      await incrementLoop(db, 1)
      retries += await checkAndSetLoop(db, 1)
    }
    await db.close()
    return { done: count, retries }
  },
  async 'stay-open'() {
    // Opens, writes with expiry, and never closes: the sweep timer must not keep the process alive.
    const db = await Valkeyrie.open(path)
    await db.set(['temp'], 1, { expireIn: 60_000 })
    return { leftOpen: true }
  },
  'crash-writer': crashWriter,
  async 'open-full'() {
    // Run inside a mount namespace whose tmpfs at dirname(path) is too small for a new database.
    const error = await Valkeyrie.open(path).then(
      async (db) => {
        await db.close()
        return undefined
      },
      (failure: Error) => `${failure.name}: ${failure.message}`,
    )
    return { error, left: readdirSync(dirname(path ?? '')) }
  },
  async 'read-only'() {
    // Run without write permission on `path`; `argument` is the clock, at which ['temp'] has expired.
    const describe = (error: Error): string => `${error.name}: ${error.message}`
    const plain = await Valkeyrie.open(path).then((db) => db.close().then(() => 'opened'), describe)
    const db = await Valkeyrie.open(path, { readOnly: true, clock: () => count })
    const value = (await db.get(['a'])).value
    const expired = (await db.get(['temp'])).value
    const listed = (await Array.fromAsync(db.list({ prefix: [] }))).map((entry) => entry.key)
    const writes = [() => db.set(['b'], 1), () => db.delete(['a']), () => db.atomic().set(['c'], 1).commit(), () => db.cleanup()]
    const errors: string[] = []
    for (const write of writes) errors.push(await write().then(() => 'resolved', describe))
    await db.close()
    let writable = true
    try {
      accessSync(path ?? '', constants.W_OK)
    } catch {
      writable = false
    }
    return { plain, value, expired, listed, errors, writable }
  },
  async write() {
    // `argument` is a JSON list of [key, value | null, expireIn?]: sets (or deletes, for null) one commit each.
    const db = await Valkeyrie.open(path)
    const stamps: (string | null)[] = []
    for (const [key, value, expireIn] of JSON.parse(argument ?? '[]') as [string[], unknown, number?][]) {
      if (value === null) {
        await db.delete(key)
        stamps.push(null)
      } else {
        stamps.push((await db.set(key, value, expireIn === undefined ? undefined : { expireIn })).versionstamp)
      }
    }
    await db.close()
    return { stamps }
  },
  async 'count-up'() {
    // Sets ['n'] to 1, 2, … count, one plain set each.
    const db = await Valkeyrie.open(path, { busyTimeout: 10_000 })
    for (let i = 1; i <= count; i++) await db.set(['n'], i)
    await db.close()
    return { done: count }
  },
  stamps: () => stampLoop(false),
  'stamps-wrapped': () => stampLoop(true),
}

const run = commands[command ?? '']
if (!run) throw new Error(`unknown command ${command}`)
run().then(print, (error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
