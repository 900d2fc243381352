/**
 * The benchmark driver: `npm run bench` (see bench/README.md).
 *
 *   tsx bench/run.ts [--scale 1] [--runs 3] [--durability full|relaxed] [--only w1,w2] [--out file.json] [--tmp dir]
 *
 * For every run, workload and contender it prepares a fresh database file (untimed), then runs the workload in a
 * fresh child process (`node --import tsx bench/contender.ts …`) and collects its JSON line. The contenders
 * alternate which goes first from one run to the next. It prints a markdown table of medians and writes every
 * number to a JSON file. It asserts nothing about speed: it fails only when a workload fails.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { CONTENDERS, prepareDatabase, removeDatabase, type ContenderName, type ContenderResult } from './populate.js'
import type { Durability } from './raw.js'
import { countAt, WORKLOADS, workloadNamed, type Workload } from './workloads.js'
import { runPostgresBench } from './postgres/after-sqlite.js'
import { runPortability } from './portability.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CONTENDER_SCRIPT = join(ROOT, 'bench', 'contender.ts')

/** Targets of the issue, checked (and reported, never enforced) on the medians. */
const TARGET_RATIO = 0.9
const TARGET_GROUP_COMMIT = 5
const TARGET_LIST_RSS_GROWTH = 50e6

interface Options {
  scale: number
  runs: number
  durability: Durability
  workloads: Workload[]
  out: string
  tmp: string
  /** Run bench/portability.ts too (not with --only). */
  portability: boolean
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      durability: { type: 'string', default: 'full' },
      only: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
      tmp: { type: 'string', default: os.tmpdir() },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(
      'usage: tsx bench/run.ts [--scale 1] [--runs 3] [--durability full|relaxed] [--only w1,w2] [--out file.json] [--tmp dir]\n' +
        `workloads: ${WORKLOADS.map((w) => w.name).join(', ')}`,
    )
    process.exit(0)
  }
  const scale = Number(values.scale)
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number: received ${values.scale}`)
  const runs = Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer: received ${values.runs}`)
  const durability = values.durability
  if (durability !== 'full' && durability !== 'relaxed') {
    throw new Error(`--durability must be full or relaxed: received ${durability}`)
  }
  const workloads =
    values.only === undefined
      ? [...WORKLOADS]
      : values.only
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '')
          .map(workloadNamed)
  if (workloads.length === 0) throw new Error('--only names no workload')
  return { scale, runs, durability, workloads, out: resolve(values.out), tmp: resolve(values.tmp), portability: values.only === undefined }
}

/** The commit measured, and whether src/ had uncommitted changes (read-only git calls; null outside a checkout). */
function sourceVersion(): { commit: string; srcDirty: boolean } | null {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' })
  const head = git('rev-parse', '--short', 'HEAD')
  if (head.error || head.status !== 0) return null
  const status = git('status', '--porcelain', '--', 'src')
  return { commit: head.stdout.trim(), srcDirty: status.status !== 0 || status.stdout.trim() !== '' }
}

function machine() {
  const require = createRequire(import.meta.url)
  const probe = new Database(':memory:')
  const sqlite = probe.prepare<[], string>('SELECT sqlite_version()').pluck().get()
  probe.close()
  const cpus = os.cpus()
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    betterSqlite3: (require('better-sqlite3/package.json') as { version: string }).version,
    sqlite: sqlite ?? 'unknown',
    source: sourceVersion(),
  }
}

/** Runs one contender on one workload in a fresh process, on a freshly prepared file. */
async function runOne(
  contender: ContenderName,
  workload: Workload,
  options: Options,
  dir: string,
  run: number,
): Promise<ContenderResult> {
  const path = join(dir, `${contender}-${workload.name}-run${run}.db`)
  removeDatabase(path)
  try {
    await prepareDatabase(contender, workload.name, path, options.scale, options.durability)
    const args = [
      '--import',
      'tsx',
      CONTENDER_SCRIPT,
      contender,
      workload.name,
      '--scale',
      String(options.scale),
      '--durability',
      options.durability,
      '--db',
      path,
    ]
    const child = spawnSync(process.execPath, args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    })
    if (child.error) throw child.error
    if (child.status !== 0) {
      throw new Error(`${contender} ${workload.name} (run ${run}) exited with ${child.status ?? child.signal}`)
    }
    const line = child.stdout.trim().split('\n').at(-1) ?? ''
    return JSON.parse(line) as ContenderResult
  } finally {
    removeDatabase(path)
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`
const rate = (opsPerSec: number): string =>
  opsPerSec >= 100 ? Math.round(opsPerSec).toLocaleString('en-US') : opsPerSec.toFixed(1)
const ratioText = (ratio: number): string => `${ratio.toFixed(2)}×`
const seconds = (s: number): string => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`)

interface ContenderSummary {
  runs: ContenderResult[]
  opsPerSec: number
  maxRss: number
  rssGrowth?: number
}

interface WorkloadSummary {
  name: string
  unit: string
  n: number
  sequential: boolean
  raw: ContenderSummary
  valkeyrie: ContenderSummary
  /** Valkeyrie ops/s ÷ raw ops/s in each run (same run, so same machine state). */
  ratios: number[]
  /** Median of `ratios`. */
  ratio: number
  meetsTarget: boolean | null
}

function summarizeContender(runs: ContenderResult[]): ContenderSummary {
  const growth = runs.map((r) => r.rssGrowth).filter((g): g is number => g !== undefined)
  return {
    runs,
    opsPerSec: median(runs.map((r) => r.opsPerSec)),
    maxRss: median(runs.map((r) => r.maxRss)),
    ...(growth.length > 0 ? { rssGrowth: median(growth) } : {}),
  }
}

async function main(): Promise<void> {
  const options = parseOptions()
  const started = performance.now()
  const info = machine()
  const loadBefore = os.loadavg()[0] ?? 0
  mkdirSync(options.tmp, { recursive: true })
  const dir = mkdtempSync(join(options.tmp, 'valkeyrie-bench-'))
  const results = new Map<string, Record<ContenderName, ContenderResult[]>>()
  for (const w of options.workloads) results.set(w.name, { raw: [], valkeyrie: [] })
  const log = (message: string): void => void process.stderr.write(message + '\n')
  log(
    `valkeyrie bench: scale ${options.scale}, ${options.runs} run(s), durability ${options.durability}, ` +
      `${options.workloads.length} workload(s); node ${info.node}, ${info.nproc} CPUs; databases in ${dir}`,
  )
  try {
    for (let run = 1; run <= options.runs; run++) {
      // Alternate which contender goes first, so neither always inherits the other's page cache and disk state.
      const order = run % 2 === 1 ? CONTENDERS : [...CONTENDERS].reverse()
      for (const workload of options.workloads) {
        for (const contender of order) {
          const result = await runOne(contender, workload, options, dir, run)
          results.get(workload.name)![contender].push(result)
          log(
            `  run ${run}/${options.runs} ${workload.name.padEnd(14)} ${contender.padEnd(9)} ` +
              `${rate(result.opsPerSec).padStart(10)} ops/s  ${result.seconds.toFixed(2)} s  peak RSS ${mb(result.maxRss)}` +
              (result.rssGrowth !== undefined ? `  RSS growth ${mb(result.rssGrowth)}` : ''),
          )
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const portability = options.portability ? await runPortability({ ...options, log }) : null
  const elapsed = (performance.now() - started) / 1000
  const loadAfter = os.loadavg()[0] ?? 0
  // The benchmark itself keeps about one CPU busy; more than that means something else competed for the machine.
  const busy = Math.max(loadBefore, loadAfter) > 1.5

  const summaries: WorkloadSummary[] = options.workloads.map((w) => {
    const r = results.get(w.name)!
    const ratios = r.valkeyrie.map((v, i) => v.opsPerSec / (r.raw[i] as ContenderResult).opsPerSec)
    const ratio = median(ratios)
    return {
      name: w.name,
      unit: w.unit,
      n: countAt(w.base, options.scale),
      sequential: w.sequential,
      raw: summarizeContender(r.raw),
      valkeyrie: summarizeContender(r.valkeyrie),
      ratios,
      ratio,
      meetsTarget: w.sequential ? ratio >= TARGET_RATIO : null,
    }
  })
  const byName = new Map(summaries.map((s) => [s.name, s]))

  const seqSet = byName.get('seq-set')
  const concurrent = byName.get('concurrent-set')
  const groupCommit =
    seqSet && concurrent
      ? (() => {
          const ratios = concurrent.valkeyrie.runs.map(
            (c, i) => c.opsPerSec / (seqSet.valkeyrie.runs[i] as ContenderResult).opsPerSec,
          )
          const ratio = median(ratios)
          return { ratios, ratio, target: TARGET_GROUP_COMMIT, durability: options.durability, met: ratio >= TARGET_GROUP_COMMIT }
        })()
      : null
  const list1m = byName.get('list-1m')
  const listGrowth =
    list1m && list1m.valkeyrie.rssGrowth !== undefined
      ? {
          valkeyrie: list1m.valkeyrie.rssGrowth,
          raw: list1m.raw.rssGrowth ?? null,
          entries: list1m.n,
          target: TARGET_LIST_RSS_GROWTH,
          met: list1m.valkeyrie.rssGrowth < TARGET_LIST_RSS_GROWTH,
        }
      : null

  // The table.
  const lines: string[] = []
  const date = new Date().toISOString()
  lines.push(
    `Valkeyrie benchmark, ${date}: scale ${options.scale}, median of ${options.runs} run(s), durability '${options.durability}', ` +
      `file-backed databases; node ${info.node}, better-sqlite3 ${info.betterSqlite3}, SQLite ${info.sqlite}, ` +
      `${info.nproc} CPUs (${info.cpu}), ${(info.memoryBytes / 2 ** 30).toFixed(1)} GiB` +
      (info.source ? `; commit ${info.source.commit}${info.source.srcDirty ? ' with uncommitted changes in src/' : ''}` : ''),
    '',
    '| workload | op | raw ops/s | valkeyrie ops/s | ratio | raw peak RSS | valkeyrie peak RSS | target |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  )
  for (const s of summaries) {
    const growth = (c: ContenderSummary): string => (c.rssGrowth !== undefined ? ` (+${mb(c.rssGrowth)} listing)` : '')
    const target =
      s.meetsTarget === null ? 'n/a (raw is sequential)' : s.meetsTarget ? `✓ ≥ ${TARGET_RATIO}×` : `✗ below ${TARGET_RATIO}×`
    lines.push(
      `| ${s.name} | ${s.unit} | ${rate(s.raw.opsPerSec)} | ${rate(s.valkeyrie.opsPerSec)} | ${ratioText(s.ratio)} | ` +
        `${mb(s.raw.maxRss)}${growth(s.raw)} | ${mb(s.valkeyrie.maxRss)}${growth(s.valkeyrie)} | ${target} |`,
    )
  }
  lines.push('')
  if (groupCommit) {
    const c = concurrent!.valkeyrie.opsPerSec
    const q = seqSet!.valkeyrie.opsPerSec
    lines.push(
      `Group commit: ${concurrent!.n.toLocaleString('en-US')} concurrent set()s at ${rate(c)} ops/s vs sequential set()s at ` +
        `${rate(q)} ops/s, durability '${options.durability}': ${ratioText(groupCommit.ratio)} ` +
        `(target ≥ ${TARGET_GROUP_COMMIT}× under 'full': ${
          options.durability === 'full' ? (groupCommit.met ? '✓' : '✗') : 'not measured at this durability'
        })`,
    )
  }
  if (listGrowth) {
    lines.push(
      `RSS growth while listing ${listGrowth.entries.toLocaleString('en-US')} entries: valkeyrie ${mb(listGrowth.valkeyrie)}` +
        (listGrowth.raw !== null ? `, raw ${mb(listGrowth.raw)}` : '') +
        ` (target < ${mb(TARGET_LIST_RSS_GROWTH)}: ${listGrowth.met ? '✓' : '✗'})`,
    )
  }
  const notes = options.workloads.map((w) => w.note).filter((n): n is string => n !== undefined)
  lines.push(
    'Ratio = valkeyrie ÷ raw ops/s, the median of the per-run ratios. Peak RSS = the child process\'s peak ' +
      'resident set (VmHWM: node + tsx + the contender, including its warm-up), median over runs.',
    ...notes.map((n) => `Note: ${n}.`),
    `Total time: ${seconds(elapsed)}. Load average (1 min) before ${loadBefore.toFixed(2)}, after ${loadAfter.toFixed(2)}.`,
  )
  if (portability) lines.push('', ...portability.lines)
  if (busy) lines.push('Warning: the machine was busy with other work during the run; these numbers are noisy.')
  const below = summaries.filter((s) => s.meetsTarget === false)
  if (below.length > 0) lines.push(`Below ${TARGET_RATIO}× raw: ${below.map((s) => `${s.name} (${ratioText(s.ratio)})`).join(', ')}.`)
  console.log(lines.join('\n'))

  const report = {
    date,
    durationSeconds: elapsed,
    options: {
      scale: options.scale,
      runs: options.runs,
      durability: options.durability,
      workloads: options.workloads.map((w) => w.name),
    },
    machine: info,
    loadAverage: { before: loadBefore, after: loadAfter },
    targets: { ratio: TARGET_RATIO, groupCommit: TARGET_GROUP_COMMIT, listRssGrowthBytes: TARGET_LIST_RSS_GROWTH },
    workloads: summaries,
    groupCommit,
    list1mRssGrowth: listGrowth,
    portability: portability?.rows ?? null,
    table: lines.join('\n'),
  }
  mkdirSync(dirname(options.out), { recursive: true })
  writeFileSync(options.out, JSON.stringify(report, null, 2) + '\n')
  log(`results written to ${relative(process.cwd(), options.out) || options.out}`)
}

try {
  await main()
} catch (error) {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
// The PostgreSQL part (bench/postgres/), with the same scale, runs and workloads.
if (!process.exitCode) process.exitCode = runPostgresBench(process.argv.slice(2))
