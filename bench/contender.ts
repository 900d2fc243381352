/**
 * One contender running one workload, in a process of its own; prints one JSON line of results on stdout.
 *
 *   node --import tsx bench/contender.ts <raw|valkeyrie> <workload> [--scale 1] [--durability full|relaxed]
 *                                        [--db <file>] [--populate-only]
 *
 * With `--db`, the file must already hold the workload's entries (the driver prepares it, or run this once with
 * `--populate-only`); without it, a temporary file is created and populated in this process first (handy for a
 * quick run or a profile, but then the process's peak RSS includes the population).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Side } from './contenders.js'
import { prepareDatabase, removeDatabase, type ContenderResult } from './populate.js'
import { RawKv, type Durability } from './raw.js'
import { countAt, workloadNamed, type Measurement } from './workloads.js'

/**
 * Peak RSS of this process, in bytes. On Linux, VmHWM from /proc/self/status: `process.resourceUsage().maxRSS`
 * (getrusage) of a spawned child starts at its parent's RSS at fork time, so it would report the driver's memory.
 */
function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match?.[1] !== undefined) return Number(match[1]) * 1024
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS * 1024
}

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      scale: { type: 'string', default: '1' },
      durability: { type: 'string', default: 'full' },
      db: { type: 'string' },
      'populate-only': { type: 'boolean', default: false },
    },
  })
  const [contender, workloadName] = positionals
  if ((contender !== 'raw' && contender !== 'valkeyrie') || workloadName === undefined || positionals.length !== 2) {
    throw new Error('usage: contender.ts <raw|valkeyrie> <workload> [--scale s] [--durability full|relaxed] [--db file] [--populate-only]')
  }
  const scale = Number(values.scale)
  if (!(scale > 0)) throw new Error(`--scale must be a positive number: ${values.scale}`)
  const durability = values.durability
  if (durability !== 'full' && durability !== 'relaxed') throw new Error(`--durability must be full or relaxed: ${durability}`)
  return {
    contender: contender as Side,
    workload: workloadNamed(workloadName),
    scale,
    durability: durability as Durability,
    db: values.db,
    populateOnly: values['populate-only'],
  }
}

async function main(): Promise<void> {
  const args = parse()
  const { contender, workload, scale, durability } = args
  const n = countAt(workload.base, scale)
  if (args.populateOnly) {
    if (args.db === undefined) throw new Error('--populate-only needs --db <file>')
    removeDatabase(args.db)
    await prepareDatabase(contender, workload.name, args.db, scale, durability)
    return
  }
  if (args.db !== undefined && !existsSync(args.db)) {
    throw new Error(`--db ${args.db} does not exist (prepare it with --populate-only)`)
  }
  const tempDir = args.db === undefined ? mkdtempSync(join(tmpdir(), 'valkeyrie-bench-')) : undefined
  try {
    const path = tempDir === undefined ? (args.db as string) : join(tempDir, `${contender}-${workload.name}.db`)
    if (tempDir !== undefined) await prepareDatabase(contender, workload.name, path, scale, durability)
    let m: Measurement
    if (contender === 'raw') {
      const store = RawKv.open(path, durability)
      try {
        m = await workload.raw(store, n, scale)
      } finally {
        store.close()
      }
    } else {
      const { Valkeyrie } = await import('./package-under-test.js').then((m) => m.valkeyrie)
      const db = await Valkeyrie.open(path, { durability })
      try {
        m = await workload.valkeyrie(db, n, scale)
      } finally {
        await db.close()
      }
    }
    const result: ContenderResult = {
      contender,
      workload: workload.name,
      durability,
      scale,
      n,
      ops: m.ops,
      seconds: m.seconds,
      opsPerSec: m.ops / m.seconds,
      cpuPerOp: m.cpuSeconds / m.ops,
      maxRss: peakRss(),
      ...(m.rssBefore !== undefined && m.rssPeakDuring !== undefined
        ? { rssBefore: m.rssBefore, rssPeakDuring: m.rssPeakDuring, rssGrowth: m.rssPeakDuring - m.rssBefore }
        : {}),
    }
    process.stdout.write(JSON.stringify(result) + '\n')
  } finally {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true })
  }
}

await main()
