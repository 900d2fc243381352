/**
 * The benchmark driver: `npm run bench` (see bench/README.md). With the SQLite workloads it runs the portability
 * workload (bench/portability.ts) and the queue workload (bench/queue.ts).
 *
 *   tsx bench/run.ts [--scale 1] [--runs 3] [--durability both|full|relaxed] [--only w1,w2] [--base <checkout>]
 *                    [--out file.json] [--tmp dir]
 *
 * For every run, durability, workload and contender (contenders.ts) it prepares a fresh database file (untimed),
 * then runs the workload in a fresh child process (`node --import tsx bench/contender.ts …`) and collects its JSON
 * line. The contenders take turns going first from one run to the next. It prints markdown tables of medians (both
 * durabilities side by side, each contender's ratio to raw at the same durability) and writes every number to a
 * JSON file. It asserts nothing about speed: it fails only when a workload fails.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { baseContender, type Contender, DEFAULT_CONTENDERS, RAW, VALKEYRIE } from './contenders.js'
import { prepareDatabase, removeDatabase, type ContenderResult } from './populate.js'
import type { Durability } from './raw.js'
import { CONCURRENT_ROUNDS, countAt, WORKLOADS, workloadNamed, type Workload } from './workloads.js'
import { runPostgresBench } from './postgres/after-sqlite.js'
import { runPortability } from './portability.js'
import { runQueueBench } from './queue.js'
import { runWatchBench } from './watch-after.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CONTENDER_SCRIPT = join(ROOT, 'bench', 'contender.ts')

/** Targets of the issue, checked (and reported, never enforced) on the medians. */
const TARGET_RATIO = 0.9
const TARGET_GROUP_COMMIT = 5
const TARGET_LIST_RSS_GROWTH = 50e6

interface Options {
  scale: number
  runs: number
  durabilities: Durability[]
  workloads: Workload[]
  contenders: Contender[]
  out: string
  tmp: string
  /** Run bench/portability.ts too (not with --only). */
  portability: boolean
}

const DURABILITIES: readonly Durability[] = ['full', 'relaxed']

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      durability: { type: 'string', default: 'both' },
      only: { type: 'string' },
      base: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
      tmp: { type: 'string', default: os.tmpdir() },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(
      'usage: tsx bench/run.ts [--scale 1] [--runs 3] [--durability both|full|relaxed] [--only w1,w2] [--base <checkout>]\n' +
        '                        [--out file.json] [--tmp dir]\n' +
        `workloads: ${WORKLOADS.map((w) => w.name).join(', ')}`,
    )
    process.exit(0)
  }
  const scale = Number(values.scale)
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number: received ${values.scale}`)
  const runs = Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer: received ${values.runs}`)
  const durability = values.durability
  if (durability !== 'both' && durability !== 'full' && durability !== 'relaxed') {
    throw new Error(`--durability must be both, full or relaxed: received ${durability}`)
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
  const contenders = [...DEFAULT_CONTENDERS]
  if (values.base !== undefined) {
    const base = baseContender(values.base)
    if (!existsSync(join(base.env!['VALKEYRIE_BENCH_DIST']!, 'index.js'))) {
      throw new Error(`--base ${values.base}: build it first (no dist/index.js there)`)
    }
    contenders.push(base)
  }
  return {
    scale,
    runs,
    durabilities: durability === 'both' ? [...DURABILITIES] : [durability],
    workloads,
    contenders,
    out: resolve(values.out),
    tmp: resolve(values.tmp),
    portability: values.only === undefined,
  }
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
  contender: Contender,
  workload: Workload,
  durability: Durability,
  options: Options,
  dir: string,
  run: number,
): Promise<ContenderResult> {
  const path = join(dir, `${contender.name.replace(/[^a-z0-9-]/gi, '_')}-${workload.name}-${durability}-run${run}.db`)
  removeDatabase(path)
  try {
    await prepareDatabase(contender.side, workload.name, path, options.scale, durability)
    const args = [
      '--import',
      'tsx',
      CONTENDER_SCRIPT,
      contender.side,
      workload.name,
      '--scale',
      String(options.scale),
      '--durability',
      durability,
      '--db',
      path,
    ]
    const child = spawnSync(process.execPath, args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, ...contender.env },
    })
    if (child.error) throw child.error
    if (child.status !== 0) {
      throw new Error(`${contender.name} ${workload.name} ${durability} (run ${run}) exited with ${child.status ?? child.signal}`)
    }
    const line = child.stdout.trim().split('\n').at(-1) ?? ''
    return { ...(JSON.parse(line) as ContenderResult), contender: contender.name }
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
  /** Ops/s ÷ its baseline's ops/s in each run (same run, so same machine state); absent for a baseline. */
  ratios?: number[]
  /** Median of `ratios`. */
  ratio?: number
  /** Median CPU time per operation, in seconds. */
  cpuPerOp: number
  /** Its baseline's CPU time per op ÷ its own, in each run: the ratio by CPU time (higher is better, as `ratios`). */
  cpuRatios?: number[]
  /** Median of `cpuRatios`. */
  cpuRatio?: number
}

interface WorkloadSummary {
  name: string
  unit: string
  durability: Durability
  n: number
  sequential: boolean
  contenders: Record<string, ContenderSummary>
  /** Valkeyrie's ratio to raw meets the target (null: not a sequential workload). */
  meetsTarget: boolean | null
}

function summarizeContender(runs: ContenderResult[], baseline: ContenderResult[] | undefined): ContenderSummary {
  const growth = runs.map((r) => r.rssGrowth).filter((g): g is number => g !== undefined)
  const ratios = baseline && runs.map((r, i) => r.opsPerSec / (baseline[i] as ContenderResult).opsPerSec)
  const cpuRatios = baseline && runs.map((r, i) => (baseline[i] as ContenderResult).cpuPerOp / r.cpuPerOp)
  return {
    runs,
    opsPerSec: median(runs.map((r) => r.opsPerSec)),
    maxRss: median(runs.map((r) => r.maxRss)),
    cpuPerOp: median(runs.map((r) => r.cpuPerOp)),
    ...(growth.length > 0 ? { rssGrowth: median(growth) } : {}),
    ...(ratios ? { ratios, ratio: median(ratios) } : {}),
    ...(cpuRatios ? { cpuRatios, cpuRatio: median(cpuRatios) } : {}),
  }
}

/** The contenders in the order they run in `run`: rotated by one each run, so none always goes first. */
function orderFor(contenders: readonly Contender[], run: number): Contender[] {
  const shift = (run - 1) % contenders.length
  return [...contenders.slice(shift), ...contenders.slice(0, shift)]
}

async function main(): Promise<void> {
  const options = parseOptions()
  const started = performance.now()
  const info = machine()
  const loadBefore = os.loadavg()[0] ?? 0
  mkdirSync(options.tmp, { recursive: true })
  const dir = mkdtempSync(join(options.tmp, 'valkeyrie-bench-'))
  const cell = (durability: Durability, workload: string): string => `${durability}/${workload}`
  const results = new Map<string, Map<string, ContenderResult[]>>()
  for (const d of options.durabilities) {
    for (const w of options.workloads) results.set(cell(d, w.name), new Map(options.contenders.map((c) => [c.name, []])))
  }
  const log = (message: string): void => void process.stderr.write(message + '\n')
  log(
    `valkeyrie bench: scale ${options.scale}, ${options.runs} run(s), durability ${options.durabilities.join(' and ')}, ` +
      `${options.workloads.length} workload(s), contenders ${options.contenders.map((c) => c.name).join(', ')}; ` +
      `node ${info.node}, ${info.nproc} CPUs; databases in ${dir}`,
  )
  try {
    for (let run = 1; run <= options.runs; run++) {
      const order = orderFor(options.contenders, run)
      for (const durability of options.durabilities) {
        for (const workload of options.workloads) {
          for (const contender of order) {
            const result = await runOne(contender, workload, durability, options, dir, run)
            results.get(cell(durability, workload.name))!.get(contender.name)!.push(result)
            log(
              `  run ${run}/${options.runs} ${durability.padEnd(7)} ${workload.name.padEnd(14)} ${contender.name.padEnd(14)} ` +
                `${rate(result.opsPerSec).padStart(10)} ops/s  ${result.seconds.toFixed(2)} s  peak RSS ${mb(result.maxRss)}` +
                (result.rssGrowth !== undefined ? `  RSS growth ${mb(result.rssGrowth)}` : ''),
            )
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const portability = options.portability
    ? await runPortability({ ...options, durability: options.durabilities[0] ?? 'full', log })
    : null
  // The queue workload (bench/queue.ts), with the portability one: not with --only.
  const queue = options.portability ? await runQueueBench({ scale: options.scale, runs: options.runs, tmp: options.tmp, log }) : null
  const elapsed = (performance.now() - started) / 1000
  const loadAfter = os.loadavg()[0] ?? 0
  // The benchmark itself keeps about one CPU busy; more than that means something else competed for the machine.
  const busy = Math.max(loadBefore, loadAfter) > 1.5

  const summaries: WorkloadSummary[] = options.durabilities.flatMap((durability) =>
    options.workloads.map((w) => {
      const byContender = results.get(cell(durability, w.name))!
      const contenders = Object.fromEntries(
        options.contenders.map((c) => [
          c.name,
          summarizeContender(byContender.get(c.name)!, c.baseline === undefined ? undefined : byContender.get(c.baseline)),
        ]),
      )
      const ratio = contenders[VALKEYRIE.name]?.ratio
      return {
        name: w.name,
        unit: w.unit,
        durability,
        n: countAt(w.base, options.scale),
        sequential: w.sequential,
        contenders,
        meetsTarget: w.sequential && ratio !== undefined ? ratio >= TARGET_RATIO : null,
      }
    }),
  )
  const summaryOf = (durability: Durability, name: string): WorkloadSummary | undefined =>
    summaries.find((s) => s.durability === durability && s.name === name)
  const valkeyrieOf = (s: WorkloadSummary): ContenderSummary => s.contenders[VALKEYRIE.name]!

  // Group commit at 'full', where one fsync per transaction makes it matter (else at the durability measured).
  const groupDurability: Durability = options.durabilities.includes('full') ? 'full' : options.durabilities[0]!
  const seqSet = summaryOf(groupDurability, 'seq-set')
  const concurrent = summaryOf(groupDurability, 'concurrent-set')
  const groupCommit =
    seqSet && concurrent
      ? (() => {
          const sequential = valkeyrieOf(seqSet).runs
          const ratios = valkeyrieOf(concurrent).runs.map((c, i) => c.opsPerSec / (sequential[i] as ContenderResult).opsPerSec)
          const ratio = median(ratios)
          return { ratios, ratio, target: TARGET_GROUP_COMMIT, durability: groupDurability, met: ratio >= TARGET_GROUP_COMMIT }
        })()
      : null
  const list1m = summaryOf(options.durabilities[0]!, 'list-1m')
  const listGrowth =
    list1m && valkeyrieOf(list1m).rssGrowth !== undefined
      ? {
          valkeyrie: valkeyrieOf(list1m).rssGrowth!,
          raw: list1m.contenders[RAW.name]?.rssGrowth ?? null,
          entries: list1m.n,
          durability: list1m.durability,
          target: TARGET_LIST_RSS_GROWTH,
          met: valkeyrieOf(list1m).rssGrowth! < TARGET_LIST_RSS_GROWTH,
        }
      : null

  // The tables: ops/s and ratios side by side for each durability, then peak RSS.
  const compared = options.contenders.filter((c) => c.baseline !== undefined)
  const lines: string[] = []
  const date = new Date().toISOString()
  lines.push(
    `Valkeyrie benchmark, ${date}: scale ${options.scale}, median of ${options.runs} run(s), durability ` +
      `${options.durabilities.map((d) => `'${d}'`).join(' and ')}, file-backed databases; node ${info.node}, ` +
      `better-sqlite3 ${info.betterSqlite3}, SQLite ${info.sqlite}, ${info.nproc} CPUs (${info.cpu}), ` +
      `${(info.memoryBytes / 2 ** 30).toFixed(1)} GiB` +
      (info.source ? `; commit ${info.source.commit}${info.source.srcDirty ? ' with uncommitted changes in src/' : ''}` : ''),
    '',
  )
  const header = ['workload', 'op']
  for (const d of options.durabilities) {
    header.push(`${d}: raw ops/s`, ...compared.map((c) => `${d}: ${c.name} ops/s`), ...compared.map((c) => `${d}: ${c.name} ratio`))
  }
  lines.push(`| ${header.join(' | ')} |`, `| --- | --- |${' ---: |'.repeat(header.length - 2)}`)
  for (const w of options.workloads) {
    const row = [w.name, w.unit]
    for (const d of options.durabilities) {
      const s = summaryOf(d, w.name)!
      const mark = (c: Contender, ratio: number): string =>
        c === VALKEYRIE && s.sequential && ratio < TARGET_RATIO ? `**${ratioText(ratio)}**` : ratioText(ratio)
      row.push(
        rate(s.contenders[RAW.name]!.opsPerSec),
        ...compared.map((c) => rate(s.contenders[c.name]!.opsPerSec)),
        ...compared.map((c) => mark(c, s.contenders[c.name]!.ratio!) + (s.sequential ? '' : ' (n/a)')),
      )
    }
    lines.push(`| ${row.join(' | ')} |`)
  }
  // CPU time: on a machine busy with other work it moves less than the wall clock (but leaves out fsync waits).
  const us = (seconds: number): string => (seconds * 1e6).toFixed(seconds >= 1e-4 ? 0 : 1)
  const cpuHeader = ['workload']
  for (const d of options.durabilities) {
    cpuHeader.push(...options.contenders.map((c) => `${d}: ${c.name} CPU µs/op`), ...compared.map((c) => `${d}: ${c.name} CPU ratio`))
  }
  lines.push('', `| ${cpuHeader.join(' | ')} |`, `| --- |${' ---: |'.repeat(cpuHeader.length - 1)}`)
  for (const w of options.workloads) {
    const row = [w.name]
    for (const d of options.durabilities) {
      const s = summaryOf(d, w.name)!
      row.push(
        ...options.contenders.map((c) => us(s.contenders[c.name]!.cpuPerOp)),
        ...compared.map((c) => ratioText(s.contenders[c.name]!.cpuRatio!)),
      )
    }
    lines.push(`| ${row.join(' | ')} |`)
  }
  lines.push('', `| workload | ${options.durabilities.flatMap((d) => options.contenders.map((c) => `${d}: ${c.name} peak RSS`)).join(' | ')} |`)
  lines.push(`| --- |${' ---: |'.repeat(options.durabilities.length * options.contenders.length)}`)
  for (const w of options.workloads) {
    const row = [w.name]
    for (const d of options.durabilities) {
      const s = summaryOf(d, w.name)!
      for (const c of options.contenders) {
        const summary = s.contenders[c.name]!
        row.push(mb(summary.maxRss) + (summary.rssGrowth !== undefined ? ` (+${mb(summary.rssGrowth)} listing)` : ''))
      }
    }
    lines.push(`| ${row.join(' | ')} |`)
  }
  lines.push('')
  if (groupCommit) {
    const c = valkeyrieOf(concurrent!).opsPerSec
    const q = valkeyrieOf(seqSet!).opsPerSec
    lines.push(
      `Group commit: ${CONCURRENT_ROUNDS} rounds of ${concurrent!.n.toLocaleString('en-US')} concurrent set()s at ${rate(c)} ops/s vs sequential set()s at ` +
        `${rate(q)} ops/s, durability '${groupDurability}': ${ratioText(groupCommit.ratio)} ` +
        `(target ≥ ${TARGET_GROUP_COMMIT}× under 'full': ${
          groupDurability === 'full' ? (groupCommit.met ? '✓' : '✗') : 'not measured at this durability'
        })`,
    )
  }
  if (listGrowth) {
    lines.push(
      `RSS growth while listing ${listGrowth.entries.toLocaleString('en-US')} entries ('${listGrowth.durability}'): ` +
        `valkeyrie ${mb(listGrowth.valkeyrie)}` +
        (listGrowth.raw !== null ? `, raw ${mb(listGrowth.raw)}` : '') +
        ` (target < ${mb(TARGET_LIST_RSS_GROWTH)}: ${listGrowth.met ? '✓' : '✗'})`,
    )
  }
  const notes = options.workloads.map((w) => w.note).filter((n): n is string => n !== undefined)
  lines.push(
    'Ratio = ops/s ÷ raw ops/s at the same durability, the median of the per-run ratios (bold: a sequential ' +
      `workload below ${TARGET_RATIO}×; n/a: raw is sequential there). CPU ratio = raw CPU time per op ÷ the ` +
      "contender's, per run, median (process user + system time over the timed part). Peak RSS = the child " +
      "process's peak resident " +
      'set (VmHWM: node + tsx + the contender, including its warm-up), median over runs.',
    ...notes.map((n) => `Note: ${n}.`),
    `Total time: ${seconds(elapsed)}. Load average (1 min) before ${loadBefore.toFixed(2)}, after ${loadAfter.toFixed(2)}.`,
  )
  if (portability) lines.push('', ...portability.lines)
  if (queue) lines.push('', ...queue.lines)
  if (busy) lines.push('Warning: the machine was busy with other work during the run; these numbers are noisy.')
  const below = summaries.filter((s) => s.meetsTarget === false)
  if (below.length > 0) {
    lines.push(
      `Below ${TARGET_RATIO}× raw: ${below.map((s) => `${s.name} '${s.durability}' (${ratioText(valkeyrieOf(s).ratio!)})`).join(', ')}.`,
    )
  }
  console.log(lines.join('\n'))

  const report = {
    date,
    durationSeconds: elapsed,
    options: {
      scale: options.scale,
      runs: options.runs,
      durabilities: options.durabilities,
      workloads: options.workloads.map((w) => w.name),
      contenders: options.contenders,
    },
    machine: info,
    loadAverage: { before: loadBefore, after: loadAfter },
    targets: { ratio: TARGET_RATIO, groupCommit: TARGET_GROUP_COMMIT, listRssGrowthBytes: TARGET_LIST_RSS_GROWTH },
    workloads: summaries,
    groupCommit,
    list1mRssGrowth: listGrowth,
    portability: portability?.rows ?? null,
    queue: queue ? { throughput: queue.throughput, latency: queue.latency, idle: queue.idle } : null,
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
// The watch part (bench/watch.ts), with the same scale and temp folder.
if (!process.exitCode) process.exitCode = runWatchBench(process.argv.slice(2))
