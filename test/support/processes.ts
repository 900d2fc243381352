/** Runs test/support/worker.ts (or another worker script of test/support) in real child processes. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
/** The worker of the Postgres multi-process suite. */
export const POSTGRES_WORKER = fileURLToPath(new URL('./postgres-worker.ts', import.meta.url))

export interface StartedWorker {
  child: ChildProcess
  /** Every complete JSON line received so far. */
  lines: unknown[]
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts a worker process; its JSON lines are collected as they arrive. */
export function startWorker(args: string[], script = WORKER): StartedWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: unknown[] = []
  let stdout = ''
  let partial = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
    partial += chunk.toString('utf8')
    const complete = partial.split('\n')
    partial = complete.pop() ?? ''
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line))
  })
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, lines, stdout: () => stdout, stderr: () => stderr, exited }
}

export interface WorkerRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a worker to completion; kills it and rejects after `timeoutMs`. */
export async function runWorker(args: string[], timeoutMs = 60_000, script = WORKER): Promise<WorkerRun> {
  const worker = startWorker(args, script)
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs)
  const { code, signal } = await worker.exited.finally(() => clearTimeout(timer))
  if (signal === 'SIGKILL') throw new Error(`worker ${args.join(' ')} did not exit within ${timeoutMs} ms`)
  return { code, stdout: worker.stdout(), stderr: worker.stderr() }
}

/** Runs a worker to completion without returning to the event loop meanwhile (the caller's turn waits for it). */
export function runWorkerSync(args: string[], timeoutMs = 60_000, script = WORKER): WorkerRun {
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: timeoutMs })
  if (run.error) throw run.error
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}
