/**
 * The PostgreSQL benchmark: `npm run bench:postgres` (and the end of `npm run bench`; see bench/README.md).
 *
 *   tsx bench/postgres/run.ts [--scale 1] [--runs 3] [--durability full,relaxed] [--only w1,w2] [--out file.json]
 *
 * Against the server at VALKEYRIE_BENCH_POSTGRES_URL, or a throwaway one it starts (bench/postgres/server.ts); with
 * neither it prints one line saying why it skipped and exits 0. For every durability, run, workload and contender
 * it prepares a fresh schema (untimed), runs the workload in a fresh child process and collects its JSON line; the
 * contenders alternate which goes first from one run to the next. Then it counts the round trips per operation.
 * It prints markdown tables of medians and writes every number to a JSON file; it asserts nothing about speed.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { CONCURRENT_ROUNDS, countAt } from '../workloads.js'
import { CONTENDERS, dropSchema, prepareSchema, schemaOf, type ContenderName } from './populate.js'
import type { Durability } from './raw.js'
import { measureRoundTrips, type RoundTrips } from './round-trips.js'
import { benchServer } from './server.js'
import { PG_WORKLOADS, pgWorkloadNamed, type PgWorkload } from './workloads.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CONTENDER_SCRIPT = join(ROOT, 'bench', 'postgres', 'contender.ts')
/** Targets of the issue, checked (and reported, never enforced) on the medians. */
const TARGET_RATIO = 0.8
const TARGET_GROUP_COMMIT = 5

interface Result {
  contender: ContenderName
  opsPerSec: number
  seconds: number
  maxRss: number
  rssGrowth?: number
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      durability: { type: 'string', default: 'full,relaxed' },
      only: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'postgres-latest.json') },
    },
  })
  const scale = Number(values.scale)
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number: received ${values.scale}`)
  const runs = Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer: received ${values.runs}`)
  const durabilities = values.durability.split(',').map((d) => d.trim())
  for (const d of durabilities) if (d !== 'full' && d !== 'relaxed') throw new Error(`--durability takes full and/or relaxed: received ${d}`)
  const workloads = values.only === undefined ? [...PG_WORKLOADS] : values.only.split(',').filter((n) => n.trim() !== '').map((n) => pgWorkloadNamed(n.trim()))
  if (workloads.length === 0) throw new Error('--only names no workload')
  return { scale, runs, durabilities: durabilities as Durability[], workloads, out: resolve(values.out) }
}
type Options = ReturnType<typeof parseOptions>

async function runOne(contender: ContenderName, workload: PgWorkload, url: string, options: Options, durability: Durability, run: number): Promise<Result> {
  const schema = await prepareSchema(contender, workload, url, options.scale, durability)
  try {
    const args = ['--import', 'tsx', CONTENDER_SCRIPT, contender, workload.name, '--url', url, '--schema', schema]
    args.push('--scale', String(options.scale), '--durability', durability)
    const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 })
    if (child.error) throw child.error
    if (child.status !== 0) throw new Error(`${contender} ${workload.name} (${durability}, run ${run}) exited with ${child.status ?? child.signal}`)
    return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as Result
  } finally {
    await dropSchema(url, schema)
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const rate = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))
const times = (x: number): string => `${x.toFixed(2)}×`
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    const { rows } = await client.query<{ v: string; fsync: string }>(
      "SELECT current_setting('server_version') AS v, current_setting('fsync') AS fsync",
    )
    return `PostgreSQL ${rows[0]!.v} (fsync ${rows[0]!.fsync})`
  } finally {
    await client.end()
  }
}

async function main(): Promise<void> {
  const options = parseOptions()
  const found = await benchServer()
  if ('skipped' in found) {
    console.log(`postgres bench skipped: ${found.skipped}`)
    return
  }
  const { server } = found
  // Interrupted: still stop (and delete) a throwaway server.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.stop()
      process.exit(130)
    })
  }
  const log = (message: string): void => void process.stderr.write(message + '\n')
  const started = performance.now()
  try {
    const version = await serverVersion(server.url)
    log(`valkeyrie postgres bench: scale ${options.scale}, ${options.runs} run(s), durability ${options.durabilities.join(' and ')}; ${version}, ${server.origin}`)
    const lines: string[] = []
    const report: Record<string, unknown> = { date: new Date().toISOString(), server: version, origin: server.origin, options: { ...options, workloads: options.workloads.map((w) => w.name) }, durabilities: {} }
    lines.push(
      `Valkeyrie PostgreSQL benchmark, ${report.date as string}: scale ${options.scale}, median of ${options.runs} run(s); ${version} on ` +
        `${server.origin}; node ${process.version}, ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? '?'}).`,
    )
    for (const durability of options.durabilities) {
      const results = new Map<string, Record<ContenderName, Result[]>>()
      for (const w of options.workloads) results.set(w.name, { raw: [], valkeyrie: [] })
      for (let run = 1; run <= options.runs; run++) {
        const order = run % 2 === 1 ? CONTENDERS : [...CONTENDERS].reverse()
        for (const workload of options.workloads) {
          for (const contender of order) {
            const result = await runOne(contender, workload, server.url, options, durability, run)
            results.get(workload.name)![contender].push(result)
            log(`  ${durability.padEnd(7)} run ${run}/${options.runs} ${workload.name.padEnd(14)} ${contender.padEnd(9)} ${rate(result.opsPerSec).padStart(10)} ops/s  ${result.seconds.toFixed(2)} s`)
          }
        }
      }
      const summaries = options.workloads.map((w) => {
        const r = results.get(w.name)!
        const ratios = r.valkeyrie.map((v, i) => v.opsPerSec / r.raw[i]!.opsPerSec)
        return {
          name: w.name,
          unit: w.unit,
          n: countAt(w.base, options.scale),
          sequential: w.sequential,
          raw: median(r.raw.map((x) => x.opsPerSec)),
          valkeyrie: median(r.valkeyrie.map((x) => x.opsPerSec)),
          rssGrowth: r.valkeyrie[0]?.rssGrowth === undefined ? undefined : median(r.valkeyrie.map((x) => x.rssGrowth!)),
          ratios,
          ratio: median(ratios),
          runs: r,
        }
      })
      lines.push(
        '',
        `Durability '${durability}' (synchronous_commit ${durability === 'full' ? 'on' : 'off'}):`,
        '',
        '| workload | op | raw pg ops/s | valkeyrie ops/s | ratio | target |',
        '| --- | --- | ---: | ---: | ---: | --- |',
      )
      for (const s of summaries) {
        const target = !s.sequential ? 'n/a (raw is sequential)' : s.ratio >= TARGET_RATIO ? `✓ ≥ ${TARGET_RATIO}×` : `✗ below ${TARGET_RATIO}×`
        const growth = s.rssGrowth === undefined ? '' : ` (RSS +${mb(s.rssGrowth)} listing)`
        lines.push(`| ${s.name} | ${s.unit} | ${rate(s.raw)} | ${rate(s.valkeyrie)}${growth} | ${times(s.ratio)} | ${target} |`)
      }
      const seq = summaries.find((s) => s.name === 'seq-set')
      const conc = summaries.find((s) => s.name === 'concurrent-set')
      let groupCommit: { ratio: number; met: boolean } | null = null
      if (seq && conc) {
        const ratio = median(conc.runs.valkeyrie.map((c, i) => c.opsPerSec / seq.runs.valkeyrie[i]!.opsPerSec))
        groupCommit = { ratio, met: ratio >= TARGET_GROUP_COMMIT }
        lines.push(
          '',
          `Group commit: ${CONCURRENT_ROUNDS} rounds of ${conc.n.toLocaleString('en-US')} concurrent set()s at ${rate(conc.valkeyrie)} ops/s vs sequential set()s at ` +
            `${rate(seq.valkeyrie)} ops/s: ${times(ratio)} (target ≥ ${TARGET_GROUP_COMMIT}×: ${groupCommit.met ? '✓' : '✗'}). ` +
            `One writer's commit ceiling on this database (raw pg, sequential sets): ${rate(seq.raw)} commits/s.`,
        )
      }
      const below = summaries.filter((s) => s.sequential && s.ratio < TARGET_RATIO)
      if (below.length > 0) lines.push(`Below ${TARGET_RATIO}× raw: ${below.map((s) => `${s.name} (${times(s.ratio)})`).join(', ')}.`)
      ;(report.durabilities as Record<string, unknown>)[durability] = { workloads: summaries, groupCommit }
    }
    const trips = await measureRoundTrips(server.url, options.durabilities[0]!)
    lines.push('', 'Client round trips per operation (counted on the pg client; a pipelined flight counts once):', '', '| operation | raw pg | valkeyrie |', '| --- | ---: | ---: |')
    for (const t of trips.perOperation) lines.push(`| ${t.operation} | ${t.raw} | ${t.valkeyrie} |`)
    lines.push(
      '',
      `${trips.concurrentSets.sets.toLocaleString('en-US')} concurrent set()s ran as ${trips.concurrentSets.transactions} transaction(s) ` +
        `(${rate(trips.concurrentSets.sets / trips.concurrentSets.transactions)} sets per commit).`,
      'Ratio = valkeyrie ÷ raw ops/s, the median of the per-run ratios (same run, same server state).',
      ...options.workloads.flatMap((w) => (w.note ? [`Note: ${w.note}.`] : [])),
      `Total time: ${((performance.now() - started) / 1000).toFixed(1)} s.`,
    )
    report.roundTrips = trips satisfies { perOperation: RoundTrips[] }
    report.table = lines.join('\n')
    console.log(lines.join('\n'))
    mkdirSync(dirname(options.out), { recursive: true })
    writeFileSync(options.out, JSON.stringify(report, null, 2) + '\n')
    log(`results written to ${relative(process.cwd(), options.out) || options.out}`)
  } finally {
    for (const c of CONTENDERS) await dropSchema(server.url, schemaOf(c)).catch(() => {})
    server.stop()
  }
}

try {
  await main()
} catch (error) {
  console.error(`bench:postgres: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
