/** Starts test/support/fault-worker.ts in a child process and streams its JSON lines. */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('./fault-worker.ts', import.meta.url))

export interface FaultWorker {
  child: ChildProcess
  /** Every complete JSON line received so far. */
  lines: unknown[]
  stderr: () => string
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function startFaultWorker(args: string[]): FaultWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: unknown[] = []
  let partial = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8')
    const complete = partial.split('\n')
    partial = complete.pop() ?? ''
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line))
  })
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, lines, stderr: () => stderr, exited }
}
