/**
 * A child process for the fault suite: `node --import tsx test/support/fault-worker.ts <command> <path> [...]`.
 * Prints one JSON line per acknowledged result, so the parent knows exactly what was acknowledged before it kills us.
 */
import { KvU64, Valkeyrie } from '../../src/index.js'

const [command, path, ...rest] = process.argv.slice(2)

async function crashWriter(): Promise<void> {
  // Commits of KEYS_PER_COMMIT keys each, up to IN_FLIGHT at once (so groups form), until killed.
  const [startArg, durability] = rest
  const KEYS_PER_COMMIT = 5
  const IN_FLIGHT = 4
  const db = await Valkeyrie.open(path, { durability: durability === 'relaxed' ? 'relaxed' : 'full' })
  let next = Number(startArg)
  const commitOne = async (): Promise<void> => {
    for (;;) {
      const seq = next++
      const op = db.atomic().sum(['commits'], 1n)
      for (let j = 0; j < KEYS_PER_COMMIT; j++) op.set(['c', seq, j], { seq, j, pad: 'x'.repeat(200) })
      const result = await op.commit()
      if (!result.ok) throw new Error('unexpected failed commit')
      process.stdout.write(`${JSON.stringify({ seq, versionstamp: result.versionstamp })}\n`)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, commitOne))
}

async function mixedWriter(): Promise<void> {
  const count = Number(rest[0])
  const db = await Valkeyrie.open(path, { busyTimeout: 10_000 })
  let retries = 0
  for (let i = 0; i < count; i++) {
    const inc = await db.atomic().sum(['counter'], new KvU64(1n)).commit()
    if (!inc.ok) throw new Error('sum failed')
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
  process.stdout.write(`${JSON.stringify({ done: count, retries })}\n`)
}

const commands: Record<string, () => Promise<void>> = { 'crash-writer': crashWriter, 'mixed-writer': mixedWriter }
const run = commands[command ?? '']
if (!run) throw new Error(`unknown command ${command}`)
run().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
