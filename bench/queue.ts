/**
 * The queue workload of `npm run bench`, on SQLite files with the built package:
 *
 * - throughput: N messages (20,000 × scale) enqueued in commits of 500 by the driver's process while 1, then 4,
 *   consumer processes listen; timed from the first enqueue until the queue table is empty (every message handled
 *   and acked), in messages/s;
 * - latency of an immediate message, from `enqueue()` to the handler, p50 and p99 over sequential messages a
 *   little apart: to a listener in the same process (woken directly), and to one in another process (woken by the
 *   store's change reports when it has them, else its safety poll);
 * - the idle cost of a listener with nothing to do: CPU time per second of a process listening on an empty queue,
 *   next to the same process with the database open and no listener.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { valkeyrie } from './package-under-test.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CONSUMER = join(ROOT, 'bench', 'queue-consumer.ts')
const BASE_MESSAGES = 20_000
const BATCH = 500

export interface QueueBenchOptions {
  scale: number
  runs: number
  tmp: string
  log: (message: string) => void
}

export interface QueueBenchResult {
  /** Messages/s by consumer processes, each run. */
  throughput: { consumers: number; messages: number; perSecond: number[] }[]
  latency: { where: 'same process' | 'other process'; samples: number; p50: number; p99: number }[]
  idle: { listening: number; baseline: number; seconds: number }
  lines: string[]
}

interface Child {
  process: ChildProcess
  lines: Record<string, number | boolean>[]
  exited: Promise<void>
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CONSUMER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: Record<string, number | boolean>[] = []
  let partial = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line))
  })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  return { process: child, lines, exited }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`queue bench: timed out waiting for ${what}`)
    await sleep(2)
  }
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}
const median = (values: number[]) => percentile(values, 50)

async function throughput(dir: string, consumers: number, messages: number): Promise<number> {
  const path = join(dir, `throughput-${consumers}-${Date.now()}.db`)
  const db = await valkeyrie.Valkeyrie.open(path, { durability: 'relaxed' })
  const children = Array.from({ length: consumers }, () => startChild(['consume', path]))
  try {
    await until(() => children.every((c) => c.lines.length > 0), 60_000, 'the consumers')
    const count = new Database(path, { readonly: true }).prepare('SELECT count(*) AS n FROM kv_queue')
    const started = performance.now()
    for (let i = 0; i < messages; i += BATCH) {
      const atomic = db.atomic()
      for (let j = i; j < Math.min(messages, i + BATCH); j++) atomic.enqueue({ n: j })
      await atomic.commit()
    }
    const deadline = Date.now() + 600_000
    while ((count.get() as { n: number }).n > 0) {
      if (Date.now() > deadline) throw new Error('queue bench: the consumers did not finish')
      await sleep(2)
    }
    return messages / ((performance.now() - started) / 1000)
  } finally {
    for (const c of children) c.process.kill('SIGTERM')
    await Promise.all(children.map((c) => c.exited))
    await db.close()
    rmSync(path, { force: true })
  }
}

async function sameProcessLatency(dir: string, samples: number): Promise<number[]> {
  const db = await valkeyrie.Valkeyrie.open(join(dir, `latency-same-${Date.now()}.db`), { durability: 'relaxed' })
  const latencies: number[] = []
  let got: (() => void) | undefined
  void db.listenQueue((value) => {
    latencies.push(performance.now() - (value as { sent: number }).sent)
    got?.()
  })
  for (let i = 0; i < samples; i++) {
    const handled = new Promise<void>((resolve) => (got = resolve))
    await db.enqueue({ sent: performance.now() })
    await handled
    await sleep(20)
  }
  await db.close()
  return latencies
}

async function otherProcessLatency(dir: string, samples: number): Promise<number[]> {
  const path = join(dir, `latency-other-${Date.now()}.db`)
  const db = await valkeyrie.Valkeyrie.open(path, { durability: 'relaxed' })
  const child = startChild(['latency', path])
  try {
    await until(() => child.lines.length > 0, 60_000, 'the consumer')
    for (let i = 0; i < samples; i++) {
      const seen = child.lines.length
      await db.enqueue({ sent: performance.timeOrigin + performance.now() })
      await until(() => child.lines.length > seen, 30_000, 'a message')
      await sleep(20)
    }
    return child.lines.slice(1).map((l) => l.latency as number)
  } finally {
    child.process.kill('SIGTERM')
    await child.exited
    await db.close()
  }
}

async function idleCpu(dir: string, ms: number, listen: boolean): Promise<number> {
  const child = startChild(['idle', join(dir, `idle-${listen ? 'listen' : 'open'}.db`), String(ms), listen ? '1' : '0'])
  await child.exited
  const line = child.lines.at(-1)
  if (line?.cpuMs === undefined) throw new Error('queue bench: the idle process printed nothing')
  return (line.cpuMs as number) / (ms / 1000)
}

export async function runQueueBench(options: QueueBenchOptions): Promise<QueueBenchResult> {
  const dir = mkdtempSync(join(options.tmp, 'valkeyrie-queue-bench-'))
  const messages = Math.max(200, Math.round(BASE_MESSAGES * options.scale))
  const samples = Math.max(10, Math.round(100 * Math.min(1, options.scale * 10)))
  const idleMs = options.scale >= 1 ? 10_000 : 2_000
  const log = options.log
  try {
    const result: QueueBenchResult = { throughput: [], latency: [], idle: { listening: 0, baseline: 0, seconds: idleMs / 1000 }, lines: [] }
    for (const consumers of [1, 4]) {
      const perSecond: number[] = []
      for (let run = 1; run <= options.runs; run++) {
        perSecond.push(await throughput(dir, consumers, messages))
        log(`  queue run ${run}/${options.runs} ${consumers} consumer(s): ${Math.round(perSecond.at(-1)!)} messages/s`)
      }
      result.throughput.push({ consumers, messages, perSecond })
    }
    const same = await sameProcessLatency(dir, samples)
    const other = await otherProcessLatency(dir, samples)
    result.latency.push({ where: 'same process', samples, p50: median(same), p99: percentile(same, 99) })
    result.latency.push({ where: 'other process', samples, p50: median(other), p99: percentile(other, 99) })
    result.idle.baseline = await idleCpu(dir, idleMs, false)
    result.idle.listening = await idleCpu(dir, idleMs, true)
    const ms = (n: number) => `${n.toFixed(1)} ms`
    result.lines = [
      `Queue (SQLite file, durability 'relaxed', ${messages} messages, median of ${options.runs} run(s)):`,
      '',
      '| measure | value |',
      '| --- | --- |',
      ...result.throughput.map((t) => `| end to end, ${t.consumers} consumer process(es) | ${Math.round(median(t.perSecond))} messages/s |`),
      ...result.latency.map((l) => `| immediate message, ${l.where}: p50 / p99 (${l.samples} messages) | ${ms(l.p50)} / ${ms(l.p99)} |`),
      `| idle listener: CPU per second (open database without a listener) | ${ms(result.idle.listening)} (${ms(result.idle.baseline)}) |`,
    ]
    return result
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// Run on its own: tsx bench/queue.ts [--scale 1] [--runs 1]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`)
    return i === -1 ? fallback : (process.argv[i + 1] as string)
  }
  const { tmpdir } = await import('node:os')
  const result = await runQueueBench({ scale: Number(arg('scale', '1')), runs: Number(arg('runs', '1')), tmp: tmpdir(), log: console.log })
  console.log(result.lines.join('\n'))
}
