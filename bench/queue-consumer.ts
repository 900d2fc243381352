/**
 * A queue consumer process for bench/queue.ts, on the built package. Prints JSON lines.
 *
 *   consume <path>             : listens, handling each message with nothing; prints `{"ready":true}`; closes on SIGTERM.
 *   latency <path>             : listens; for each message `{ sent }` (epoch ms) prints `{"latency":ms}`.
 *   idle <path> <ms> <listen>  : opens the database (and listens when <listen> is 1), waits, then prints the CPU
 *                                time used over `ms` ms of idling as `{"cpuMs":n}` and exits.
 */
import { valkeyrie } from './package-under-test.js'

const [role, path, ms, listen] = process.argv.slice(2)
const db = await valkeyrie.Valkeyrie.open(path as string)
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`)
const now = () => performance.timeOrigin + performance.now()

if (role === 'consume') {
  process.on('SIGTERM', () => void db.close().then(() => process.exit(0)))
  void db.listenQueue(() => {})
  print({ ready: true })
} else if (role === 'latency') {
  process.on('SIGTERM', () => void db.close().then(() => process.exit(0)))
  void db.listenQueue((value) => {
    print({ latency: now() - (value as { sent: number }).sent })
  })
  print({ ready: true })
} else if (role === 'idle') {
  if (listen === '1') void db.listenQueue(() => {})
  // Past start-up: the listener's poll has backed off to its longest interval.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const before = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, Number(ms)))
  const used = process.cpuUsage(before)
  print({ cpuMs: (used.user + used.system) / 1000 })
  await db.close()
} else {
  throw new Error(`unknown role ${role}`)
}
