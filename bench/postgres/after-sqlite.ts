/**
 * The PostgreSQL part of `npm run bench`: bench/run.ts calls this once its SQLite table is printed. It runs
 * bench/postgres/run.ts in a child process with the SQLite run's --scale, --runs and --only (both durabilities),
 * its output inherited; that run prints one line and exits 0 when no PostgreSQL server is available.
 */
import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Runs the Postgres bench with the options of `argv` (the SQLite run's) that apply to it; returns its exit code. */
export function runPostgresBench(argv: readonly string[]): number {
  const { values } = parseArgs({ args: [...argv], strict: false, options: { scale: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' } } })
  const args: string[] = []
  for (const name of ['scale', 'runs', 'only'] as const) {
    const value = values[name]
    if (typeof value === 'string') args.push(`--${name}`, value)
  }
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'postgres', 'run.ts'), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  })
  return child.status ?? 1
}
