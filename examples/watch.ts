/**
 * Watching keys across processes: `npm run example:watch` (or `npx tsx examples/watch.ts [path]`).
 * This process watches a job's progress and status in a database file (default ./watch.db) and starts a second
 * process that does the job, writing its progress as it goes. Every state the watcher prints was committed by the
 * other process; the watcher stops when the job is done, and both processes exit by themselves.
 */
import { spawn } from 'node:child_process'
import { Valkeyrie } from 'valkeyrie'

const path = process.argv[2] ?? './watch.db'

if (process.argv[3] === 'worker') {
  // The second process: does the job in five steps.
  await using db = await Valkeyrie.open(path)
  for (let percent = 20; percent <= 100; percent += 20) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    await db.set(['job', 'progress'], percent)
  }
  await db.set(['job', 'status'], 'done')
} else {
  await using db = await Valkeyrie.open(path)
  await db.set(['job', 'status'], 'running')
  await db.delete(['job', 'progress'])

  const stream = db.watch<[number, string]>([['job', 'progress'], ['job', 'status']])
  // The same script, in another process (with this one's loader flags, such as tsx's).
  const worker = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, path, 'worker'], { stdio: 'inherit' })

  for await (const [progress, status] of stream) {
    console.log(`progress: ${progress.value ?? 0}%  status: ${status.value}`)
    // Breaking out of the loop cancels the stream.
    if (status.value === 'done') break
  }
  await new Promise((resolve) => worker.on('exit', resolve))
  console.log('the worker finished; the watcher stops')
}
