/**
 * A child process for the watch tests: `node --import tsx test/support/watch-worker.ts <command> <place> [arg]`,
 * where `place` is a SQLite file, `:memory:`, or `<postgres URL>#<schema>`. Prints JSON lines.
 *
 * - `write <place> <value>`: sets ['shared'] to the number `value`, then closes.
 * - `watch-then <place> <cancel|break|close|keep>`: watches ['shared'], prints its first state, then cancels the
 *   stream, breaks out of `for await`, closes the database, or keeps watching; it must then exit by itself (or,
 *   with `keep`, must not).
 */
import { Valkeyrie } from '../../src/index.js'

const [command, place, argument] = process.argv.slice(2)
const print = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`)

async function open(): Promise<Valkeyrie> {
  const at = place as string
  const hash = at.indexOf('#')
  if (at.startsWith('postgres') && hash > 0) return Valkeyrie.open(at.slice(0, hash), { schema: at.slice(hash + 1) })
  return Valkeyrie.open(at === ':memory:' ? undefined : at)
}

const db = await open()
if (command === 'write') {
  await db.set(['shared'], Number(argument))
  await db.close()
  print({ written: Number(argument) })
} else if (command === 'watch-then') {
  const stream = db.watch<[number]>([['shared']])
  if (argument === 'break') {
    for await (const [entry] of stream) {
      print({ first: entry.value })
      break
    }
  } else {
    const reader = stream.getReader()
    const { value } = await reader.read()
    print({ first: value?.[0].value ?? null })
    if (argument === 'cancel') await reader.cancel()
    if (argument === 'close') {
      await db.close()
      print({ after: await reader.read() })
    }
  }
  print({ done: argument })
  // With `keep` the stream stays open: the process must stay alive until killed.
} else {
  throw new Error(`unknown command ${command}`)
}
