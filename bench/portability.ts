/**
 * The portability workload of `npm run bench`: moving entries in and out in bulk, in entries/s, next to writing
 * the same entries with `set()`. Four timings over the same N entries (`[prefix, "<prefix>-<i>"] → { name, n }`,
 * N = 100,000 × scale), each on a fresh file:
 *
 * - `set()`: N `db.set()` calls issued together (group commit batches them) on an open database, awaited at the end;
 * - `Valkeyrie.from`: the bulk load, in commits sized to the limits, creating the file (its open is timed too);
 * - `valkeyrie export`: the built command line, run as a process (node's start-up included), writing the
 *   database above as JSON lines to a file;
 * - `valkeyrie import`: the built command line importing that file into a new database (every line checked
 *   first, then written).
 *
 * The library timings run in the driver's process, on the built package; each run checks the entry count.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { valkeyrie } from './package-under-test.js'
import type { Durability } from './raw.js'
import { countAt, entryKey, entryValue } from './workloads.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = join(ROOT, 'dist', 'cli', 'main.js')
const BASE = 100_000
const PREFIX = 'items'

export interface PortabilityOptions {
  scale: number
  runs: number
  durability: Durability
  tmp: string
  log: (message: string) => void
}

export interface PortabilityRow {
  name: string
  entries: number
  /** Seconds of each run. */
  seconds: number[]
  /** Median entries/s. */
  entriesPerSec: number
}

export interface PortabilityReport {
  rows: PortabilityRow[]
  /** The markdown lines printed under the main table. */
  lines: string[]
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const started = performance.now()
  await fn()
  return (performance.now() - started) / 1000
}

function cli(args: string[], stdio: { stdin?: number; stdout?: number }): void {
  const child = spawnSync(process.execPath, [CLI, ...args], { stdio: [stdio.stdin ?? 'ignore', stdio.stdout ?? 'ignore', 'pipe'] })
  if (child.status !== 0) throw new Error(`valkeyrie ${args[0]} exited with ${child.status ?? child.signal}: ${child.stderr?.toString()}`)
}

async function assertCount(path: string, n: number): Promise<void> {
  const db = await valkeyrie.Valkeyrie.open(path, { readOnly: true })
  const { entries } = await db.info()
  await db.close()
  if (entries !== n) throw new Error(`${path} holds ${entries} entries, expected ${n}`)
}

/** Runs the four timings `runs` times and returns the rows and their table. */
export async function runPortability(options: PortabilityOptions): Promise<PortabilityReport> {
  const n = countAt(BASE, options.scale)
  const { Valkeyrie } = valkeyrie
  const items = Array.from({ length: n }, (_, i) => ({ key: entryKey(PREFIX, i), value: entryValue(PREFIX, i) }))
  const seconds: Record<string, number[]> = { 'set()': [], 'Valkeyrie.from': [], 'valkeyrie export': [], 'valkeyrie import': [] }
  const dir = mkdtempSync(join(options.tmp, 'valkeyrie-portability-'))
  try {
    for (let run = 1; run <= options.runs; run++) {
      const setPath = join(dir, `set-${run}.db`)
      const db = await Valkeyrie.open(setPath, { durability: options.durability })
      seconds['set()']!.push(await time(() => Promise.all(items.map(({ key, value }) => db.set(key, value))).then(() => {})))
      await db.close()
      await assertCount(setPath, n)

      const fromPath = join(dir, `from-${run}.db`)
      seconds['Valkeyrie.from']!.push(
        await time(async () => {
          const loaded = await Valkeyrie.from(items, { path: fromPath, prefix: [], keyProperty: (item) => item.key[1] as string, durability: options.durability })
          await loaded.close()
        }),
      )

      const dump = join(dir, `dump-${run}.jsonl`)
      const out = openSync(dump, 'w')
      seconds['valkeyrie export']!.push(await time(() => cli(['export', setPath], { stdout: out })))
      closeSync(out)
      if (statSync(dump).size === 0) throw new Error('the export wrote nothing')

      const importPath = join(dir, `import-${run}.db`)
      const input = openSync(dump, 'r')
      seconds['valkeyrie import']!.push(await time(() => cli(['import', importPath], { stdin: input })))
      closeSync(input)
      await assertCount(importPath, n)
      for (const name of Object.keys(seconds)) {
        options.log(`  run ${run}/${options.runs} portability ${name.padEnd(17)} ${Math.round(n / (seconds[name]!.at(-1) as number)).toLocaleString('en-US').padStart(10)} entries/s`)
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const rows = Object.entries(seconds).map(([name, s]) => ({ name, entries: n, seconds: s, entriesPerSec: n / median(s) }))
  const lines = [
    `Portability: ${n.toLocaleString('en-US')} entries { name, n } written and moved in bulk, durability '${options.durability}', median of ${options.runs} run(s).`,
    '',
    '| operation | entries/s | seconds |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.entriesPerSec).toLocaleString('en-US')} | ${median(r.seconds).toFixed(2)} |`),
    '',
    'set(): all N calls issued at once (group commit). Valkeyrie.from: one bulk load. export and import: the built command line as a process, start-up included; import checks every line before writing.',
  ]
  return { rows, lines }
}
