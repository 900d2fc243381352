/**
 * The watch part of `npm run bench` (bench/run.ts runs it after the others; see bench/README.md):
 *
 *   tsx bench/watch.ts [--scale 1] [--tmp dir]
 *
 * On a SQLite file, with the built package:
 * - latency from a commit (its promise resolved) to the emission that shows it, p50/p99, in the same process and
 *   from a writer in another process (which commits every WRITE_INTERVAL_MS while changes flow);
 * - the CPU time of 1,000 open watch streams while nothing is written, beside the same process with none.
 * It asserts nothing about speed; it fails only when a commit never shows up.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import type { Valkeyrie as ValkeyrieType } from '../src/index.js'
import { valkeyrie } from './package-under-test.js'

const { Valkeyrie } = valkeyrie
const SCRIPT = fileURLToPath(import.meta.url)
/** The writer's pause between two commits while changes flow. */
const WRITE_INTERVAL_MS = 5
const IDLE_WATCHERS = 1000

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes of one machine. */
const wallClock = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** Emission times (wall clock) of each value of ['k'], as a watcher sees them. */
function recordEmissions(db: ValkeyrieType, seen: Map<number, number>): { cancel(): Promise<void> } {
  const reader = db.watch<[number]>([['k']]).getReader()
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      const n = value[0].value
      if (typeof n === 'number' && !seen.has(n)) {
        seen.set(n, wallClock())
      }
    }
  })()
  return reader
}

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`watch bench: ${what} within ${ms} ms`)
    await sleep(1)
  }
}

/** Same process: each commit, then the wait for its emission. */
async function sameProcess(path: string, samples: number): Promise<number[]> {
  const db = await Valkeyrie.open(path)
  const seen = new Map<number, number>()
  const reader = recordEmissions(db, seen)
  const latencies: number[] = []
  for (let i = 1; i <= samples; i++) {
    await db.set(['k'], i)
    const committed = wallClock()
    await waitFor(() => seen.has(i), 10_000, `commit ${i} not seen`)
    latencies.push(Math.max(0, (seen.get(i) as number) - committed))
  }
  await reader.cancel()
  await db.close()
  return latencies
}

/** Another process writes `samples` commits, one every WRITE_INTERVAL_MS, printing when each resolved. */
async function crossProcess(path: string, samples: number): Promise<number[]> {
  const db = await Valkeyrie.open(path)
  const seen = new Map<number, number>()
  const reader = recordEmissions(db, seen)
  await sleep(50)
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--writer', path, '--samples', String(samples)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`watch bench: the writer exited with ${code}`)
  const committed = JSON.parse(out) as number[]
  await waitFor(() => seen.has(samples), 10_000, 'the last commit not seen')
  await reader.cancel()
  await db.close()
  const latencies: number[] = []
  // Values the watcher never saw were coalesced into a later state (none while it keeps up).
  committed.forEach((at, i) => {
    const emitted = seen.get(i + 1)
    if (emitted !== undefined) latencies.push(Math.max(0, emitted - at))
  })
  return latencies
}

async function writer(path: string, samples: number): Promise<void> {
  const db = await Valkeyrie.open(path)
  const committed: number[] = []
  for (let i = 1; i <= samples; i++) {
    await db.set(['k'], i)
    committed.push(wallClock())
    await sleep(WRITE_INTERVAL_MS)
  }
  await db.close()
  process.stdout.write(JSON.stringify(committed))
}

/** CPU ms per second of this process over `seconds`, with `watchers` streams open and nothing written. */
async function idleCpu(path: string, watchers: number, seconds: number): Promise<number> {
  const db = await Valkeyrie.open(path)
  const readers = Array.from({ length: watchers }, (_, i) => db.watch([['idle', i]]).getReader())
  await Promise.all(readers.map((r) => r.read()))
  // Let the SQLite poll back off to its quiet interval, as it does once changes stop.
  await sleep(1000)
  const start = process.cpuUsage()
  const started = performance.now()
  await sleep(seconds * 1000)
  const used = process.cpuUsage(start)
  const elapsed = (performance.now() - started) / 1000
  await Promise.all(readers.map((r) => r.cancel()))
  await db.close()
  return (used.user + used.system) / 1000 / elapsed
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    strict: false,
    options: {
      scale: { type: 'string', default: '1' },
      tmp: { type: 'string', default: os.tmpdir() },
      writer: { type: 'string' },
      samples: { type: 'string' },
    },
  })
  if (typeof values.writer === 'string') return writer(values.writer, Number(values.samples))
  const scale = Number(values.scale)
  const samples = Math.max(100, Math.round(1000 * scale))
  const seconds = scale >= 1 ? 5 : 1
  const dir = mkdtempSync(join(String(values.tmp), 'valkeyrie-watch-bench-'))
  try {
    const same = await sameProcess(join(dir, 'same.db'), samples)
    const cross = await crossProcess(join(dir, 'cross.db'), samples)
    const baseline = await idleCpu(join(dir, 'idle-none.db'), 0, seconds)
    const idle = await idleCpu(join(dir, 'idle.db'), IDLE_WATCHERS, seconds)
    const ms = (n: number): string => n.toFixed(2)
    const lines = [
      '',
      `watch() on SQLite: ${samples} commits per latency row (commit resolved -> emission), idle CPU over ${seconds} s`,
      '',
      '| measure | p50 ms | p99 ms | max ms |',
      '| --- | --- | --- | --- |',
      `| same process | ${ms(percentile(same, 50))} | ${ms(percentile(same, 99))} | ${ms(Math.max(...same))} |`,
      `| another process (a commit every ${WRITE_INTERVAL_MS} ms; ${cross.length} of ${samples} seen) | ${ms(percentile(cross, 50))} | ${ms(percentile(cross, 99))} | ${ms(Math.max(...cross))} |`,
      '',
      '| idle process | CPU ms per second |',
      '| --- | --- |',
      `| database open, no watch | ${ms(baseline)} |`,
      `| ${IDLE_WATCHERS} open watch streams, no writes | ${ms(idle)} |`,
      '',
    ]
    console.log(lines.join('\n'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

try {
  await main()
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
}
