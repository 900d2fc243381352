/**
 * A child process for the Postgres multi-process suite (test/postgres/):
 * `node --import tsx test/support/postgres-worker.ts <command> <url> <schema> [arguments...]`.
 * Each opens the database at `url` in `schema` (Valkeyrie's own pool and migrations) and prints JSON lines: one
 * per acknowledged commit for `crash-writer` (so the parent knows what was acknowledged before it kills the
 * process), one with the result for the others.
 */
import { existsSync } from 'node:fs'
import pg from 'pg'
import { KvU64, Valkeyrie } from '../../src/index.js'

const [command, url, schema, ...rest] = process.argv.slice(2)
const numbers = rest.map(Number)

const print = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`)
const open = () => Valkeyrie.open(url, { schema: schema as string })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The accounts of the bank test: balances under ['account', i], read together with getMany (one snapshot). */
const ACCOUNTS = 10
const accountKeys = Array.from({ length: ACCOUNTS }, (_, i) => ['account', i])

const commands: Record<string, () => Promise<unknown>> = {
  /** Prints `ready`, waits for the file `go` to exist, then opens the (new) schema and writes ['opened', pid]. */
  async open() {
    const [go = ''] = rest
    print({ ready: true })
    while (!existsSync(go)) await sleep(1)
    const db = await open()
    const result = await db.set(['opened', process.pid], true)
    await db.close()
    return result
  },

  /** `count` atomic increments of ['counter']. */
  async increment() {
    const [count = 0] = numbers
    const db = await open()
    for (let i = 0; i < count; i++) {
      const result = await db.atomic().sum(['counter'], new KvU64(1n)).commit()
      if (!result.ok) throw new Error('sum failed')
    }
    await db.close()
    return { done: count }
  },

  /**
   * `rounds` rounds of a race: in each, the `clients` racers first meet (each adds 1 to ['arrived', round] and waits
   * for all), then all try `check(['slot', round], null)` + set at once. Returns the rounds this client won.
   */
  async race() {
    const [rounds = 0, clients = 0, id = 0] = numbers
    const db = await open()
    const won: number[] = []
    for (let round = 0; round < rounds; round++) {
      await db.atomic().sum(['arrived', round], 1n).commit()
      while (((await db.get<KvU64>(['arrived', round])).value?.value ?? 0n) < BigInt(clients)) await sleep(1)
      const result = await db.atomic().check({ key: ['slot', round], versionstamp: null }).set(['slot', round], id).commit()
      if (result.ok) won.push(round)
    }
    await db.close()
    return { won }
  },

  /**
   * `transfers` random transfers between the accounts, each a read of both and a checked write of both (retried
   * when a check fails); between them, reads of every account in one getMany whose total must never change.
   */
  async bank() {
    const [transfers = 0, total = 0] = numbers
    const db = await open()
    let retries = 0
    let audits = 0
    const badTotals: number[] = []
    for (let done = 0; done < transfers; ) {
      const from = Math.floor(Math.random() * ACCOUNTS)
      const to = (from + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS
      const [a, b] = await db.getMany<[number, number]>([['account', from], ['account', to]])
      if (!a || !b || a.value === null || b.value === null) throw new Error('an account is missing')
      const amount = Math.min(a.value, 1 + Math.floor(Math.random() * 20))
      const result = await db.atomic()
        .check(a, b)
        .set(['account', from], a.value - amount)
        .set(['account', to], b.value + amount)
        .commit()
      if (result.ok) done++
      else retries++
      if (done % 5 === 0) {
        const balances = await db.getMany<number[]>(accountKeys)
        const sum = balances.reduce((acc, e) => acc + (e.value ?? 0), 0)
        audits++
        if (sum !== total) badTotals.push(sum)
      }
    }
    await db.close()
    return { done: transfers, retries, audits, badTotals }
  },

  /**
   * Until killed: commits of `keys` keys under ['c', seq, j] plus a sum of ['commits'], `inFlight` at a time
   * (`seq` from `first`), printing each acknowledged one with the time it took.
   */
  async 'crash-writer'() {
    const [first = 0, keys = 20, inFlight = 4] = numbers
    const db = await open()
    let next = first
    const commitForever = async (): Promise<never> => {
      for (;;) {
        const seq = next++
        const op = db.atomic().sum(['commits'], 1n)
        for (let j = 0; j < keys; j++) op.set(['c', seq, j], { seq, j, pad: 'x'.repeat(500) })
        const started = performance.now()
        const result = await op.commit()
        if (!result.ok) throw new Error('unexpected failed commit')
        print({ seq, versionstamp: result.versionstamp, ms: Math.round(performance.now() - started) })
      }
    }
    await Promise.all(Array.from({ length: inFlight }, commitForever))
    throw new Error('unreachable: the writers never stop')
  },

  /**
   * An application's write stream: commits one after another until the file `stop` exists, counting the
   * acknowledged and the failed ones (by error name); a failure is retried after 20 ms. On Valkeyrie's pool, or
   * with `own-pool` on one of the application's.
   */
  async stream() {
    const [stop = '', pool] = rest
    // 'own-pool': the application's own pg Pool (with the idle-client error handler node-postgres asks for).
    const ownPool = pool === 'own-pool' ? new pg.Pool({ connectionString: url }) : undefined
    ownPool?.on('error', () => {})
    const db = ownPool ? await Valkeyrie.open({ database: ownPool, migrations: 'apply', schema: schema as string }) : await open()
    let acknowledged = 0
    const failures: Record<string, number> = {}
    for (let i = 0; !existsSync(stop); i++) {
      try {
        await db.atomic().set(['stream', i], i).commit()
        acknowledged++
        if (acknowledged === 50) print({ ready: true })
      } catch (error) {
        const name = (error as Error).name
        failures[name] = (failures[name] ?? 0) + 1
        await sleep(20)
      }
    }
    await db.close()
    await ownPool?.end()
    return { acknowledged, failures }
  },

  /** Commits for `ms` milliseconds (one at a time, each a sum of ['steady'] and a key of its own); returns each one's latency. */
  async steady() {
    const [ms = 0, id = 0] = numbers
    const db = await open()
    const latencies: number[] = []
    const end = Date.now() + ms
    for (let i = 0; Date.now() < end; i++) {
      const started = performance.now()
      const result = await db.atomic().sum(['steady'], 1n).set(['steady', id, i], i).commit()
      if (!result.ok) throw new Error('unexpected failed commit')
      latencies.push(Math.round(performance.now() - started))
    }
    await db.close()
    return { commits: latencies.length, latencies }
  },
}

const run = commands[command ?? '']
if (!run) throw new Error(`unknown command ${command}`)
run().then(print, (error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
