/**
 * Queues: `npm run example:queue` (or `npx tsx examples/queue.ts [path]`).
 * Enqueues jobs (one delayed, one that fails until its retries run out), handles them with `listenQueue`, and
 * closes once every job has been dealt with. Messages are rows of the database: any process listening on the same
 * file (or Postgres database) shares them, each handled by one consumer at a time.
 */
import { Valkeyrie } from 'valkeyrie'

interface Email {
  to: string
  subject: string
}

const path = process.argv[2] ?? './queue.db'
const db = await Valkeyrie.open(path)

let left = 3
let done!: () => void
const allHandled = new Promise<void>((resolve) => (done = resolve))

// One listener per database object; it runs until the database closes.
const listening = db.listenQueue<Email>(
  async (email) => {
    if (email.to === 'nobody@example.invalid') throw new Error(`cannot deliver to ${email.to}`)
    console.log('sent:', email.subject, 'to', email.to)
    if (--left === 0) done()
  },
  // Called when a handler throws (the message is then retried); the default logs with console.error.
  { onError: (error) => console.log('failed, will retry:', (error as Error).message) },
)

// Handed out at once.
await db.enqueue({ to: 'ada@example.com', subject: 'Welcome' })
// Handed out after 200 ms.
await db.enqueue({ to: 'alan@example.com', subject: 'Reminder' }, { delay: 200 })
// Fails, is retried after 50 ms and 100 ms, then its value is written to ['undelivered', 'bounce'].
await db.enqueue(
  { to: 'nobody@example.invalid', subject: 'Bounce' },
  { backoffSchedule: [50, 100], keysIfUndelivered: [['undelivered', 'bounce']] },
)
// Enqueued only if the commit succeeds, in the same transaction as the set.
const order = await db.atomic()
  .check({ key: ['orders', 42], versionstamp: null })
  .set(['orders', 42], { total: 99 })
  .enqueue({ to: 'grace@example.com', subject: 'Order 42 received' })
  .commit()
// On a second run the order exists: the check fails and nothing was enqueued.
if (!order.ok && --left === 0) done()

await allHandled
// Wait for the failing message to run out of retries (on a second run, the key is already there).
while ((await db.get(['undelivered', 'bounce'])).value === null) await new Promise((resolve) => setTimeout(resolve, 20))
console.log('undelivered:', (await db.get<Email>(['undelivered', 'bounce'])).value)

// close() stops the listener (letting a running handler finish) and settles listenQueue's promise.
await db.close()
await listening
