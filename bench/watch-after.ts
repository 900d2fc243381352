/**
 * The watch part of `npm run bench`: bench/run.ts calls this last. It runs bench/watch.ts in a child process with
 * the run's --scale and --tmp, its output inherited; not with --only (a run of chosen workloads).
 */
import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Runs the watch bench with the options of `argv` (the SQLite run's) that apply to it; returns its exit code. */
export function runWatchBench(argv: readonly string[]): number {
  const { values } = parseArgs({
    args: [...argv],
    strict: false,
    options: { scale: { type: 'string' }, tmp: { type: 'string' }, only: { type: 'string' } },
  })
  if (values.only !== undefined) return 0
  const args: string[] = []
  for (const name of ['scale', 'tmp'] as const) {
    const value = values[name]
    if (typeof value === 'string') args.push(`--${name}`, value)
  }
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'watch.ts'), ...args], { cwd: ROOT, stdio: 'inherit' })
  return child.status ?? 1
}
