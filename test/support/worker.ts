/**
 * A child process for the multi-process tests: `node --import tsx test/support/worker.ts <command> <path> [n]`.
 * Prints one JSON line with its result.
 */
import { KvU64, Valkeyrie } from '../../src/index.js'

const [command, path, countArg] = process.argv.slice(2)
const count = Number(countArg ?? 0)

async function main(): Promise<unknown> {
  switch (command) {
    case 'open': {
      // `count` is an epoch-ms start time shared by all the workers, so they open the file at the same moment.
      while (Date.now() < count) {}
      const db = await Valkeyrie.open(path)
      const result = await db.set(['opened', process.pid], true)
      await db.close()
      return result
    }
    case 'increment': {
      const db = await Valkeyrie.open(path)
      for (let i = 0; i < count; i++) {
        const result = await db.atomic().sum(['counter'], new KvU64(1n)).commit()
        if (!result.ok) throw new Error('sum failed')
      }
      await db.close()
      return { done: count }
    }
    case 'check-and-set': {
      // Optimistic read-check-write loop: retried until its check passes.
      const db = await Valkeyrie.open(path)
      let retries = 0
      for (let i = 0; i < count; i++) {
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
      await db.close()
      return { done: count, retries }
    }
    case 'stay-open': {
      // Opens, writes with expiry, and never closes: the sweep timer must not keep the process alive.
      const db = await Valkeyrie.open(path)
      await db.set(['temp'], 1, { expireIn: 60_000 })
      return { leftOpen: true }
    }
    default:
      throw new Error(`unknown command ${command}`)
  }
}

main().then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  },
)
