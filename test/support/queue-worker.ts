/**
 * A queue consumer in its own process, for the multi-process queue suite: opens the database at `target` (a SQLite
 * file, or a Postgres URL with `schema`), prints `{"ready":pid}`, then listens to the queue and prints JSON lines.
 *
 *   consume <target> <schema|-> : prints `{"handled":value}` for each message; closes and exits on SIGTERM.
 *   hang <target> <schema|->    : prints `{"got":value}` for the first message and never finishes its handler
 *                                 (the test kills it with SIGKILL).
 */
import { Valkeyrie } from '../../src/index.js'

const [command, target, schema] = process.argv.slice(2)
const db = await Valkeyrie.open(target, schema && schema !== '-' ? { schema } : {})
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`)

if (command === 'consume') {
  process.on('SIGTERM', () => {
    void db.close().then(() => process.exit(0))
  })
  void db.listenQueue((value) => {
    print({ handled: value })
  })
} else if (command === 'hang') {
  void db.listenQueue(async (value) => {
    print({ got: value })
    await new Promise(() => {})
  })
} else {
  throw new Error(`unknown command ${command}`)
}
print({ ready: process.pid })
