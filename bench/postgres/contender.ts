/**
 * One contender running one Postgres workload, in a process of its own; prints one JSON line of results on stdout.
 *
 *   node --import tsx bench/postgres/contender.ts <raw|valkeyrie> <workload> --url <postgres://…> --schema <name>
 *                                                 [--scale 1] [--durability full|relaxed]
 *
 * The schema must already hold the workload's entries (bench/postgres/run.ts prepares it).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Measurement } from '../workloads.js'
import { countAt } from '../workloads.js'
import { RawPgKv, type Durability } from './raw.js'
import { pgWorkloadNamed } from './workloads.js'

/** Peak RSS of this process (VmHWM on Linux, else getrusage maxRSS), in bytes. */
function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match?.[1] !== undefined) return Number(match[1]) * 1024
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS * 1024
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scale: { type: 'string', default: '1' },
    durability: { type: 'string', default: 'full' },
    url: { type: 'string' },
    schema: { type: 'string' },
  },
})
const [contender, workloadName] = positionals
if ((contender !== 'raw' && contender !== 'valkeyrie') || workloadName === undefined || !values.url || !values.schema) {
  throw new Error('usage: contender.ts <raw|valkeyrie> <workload> --url <url> --schema <name> [--scale s] [--durability full|relaxed]')
}
const workload = pgWorkloadNamed(workloadName)
const scale = Number(values.scale)
const durability = values.durability as Durability
if (durability !== 'full' && durability !== 'relaxed') throw new Error(`--durability must be full or relaxed: ${durability}`)
const n = countAt(workload.base, scale)

let m: Measurement
if (contender === 'raw') {
  const store = await RawPgKv.open(values.url, values.schema, durability)
  try {
    m = await workload.raw(store, n, scale)
  } finally {
    await store.close()
  }
} else {
  const { Valkeyrie } = await import('../package-under-test.js').then((mod) => mod.valkeyrie)
  const db = await Valkeyrie.open(values.url, { schema: values.schema, durability })
  try {
    m = await workload.valkeyrie(db, n, scale)
  } finally {
    await db.close()
  }
}
process.stdout.write(
  JSON.stringify({
    contender,
    workload: workload.name,
    durability,
    scale,
    n,
    ops: m.ops,
    seconds: m.seconds,
    opsPerSec: m.ops / m.seconds,
    maxRss: peakRss(),
    ...(m.rssBefore !== undefined && m.rssPeakDuring !== undefined ? { rssGrowth: m.rssPeakDuring - m.rssBefore } : {}),
  }) + '\n',
)
