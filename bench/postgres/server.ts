/**
 * The PostgreSQL server the benchmark runs against: the one at `VALKEYRIE_BENCH_POSTGRES_URL` when set, else a
 * throwaway server started for the run (initdb into a temporary folder, `pg_ctl start` on 127.0.0.1 at a free
 * port, stopped and deleted afterwards). The throwaway server keeps the defaults that matter for commit speed
 * (fsync on, synchronous_commit on, full_page_writes on): a benchmark never runs with fsync off.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const URL_VARIABLE = 'VALKEYRIE_BENCH_POSTGRES_URL'

export interface BenchServer {
  url: string
  /** How the server came to be, for the report. */
  origin: string
  stop(): void
}

/** A server to run against, or the reason there is none (printed as the one line of a skipped run). */
export type ServerOrReason = { server: BenchServer } | { skipped: string }

/** The newest PostgreSQL binaries folder (…/bin holding initdb and pg_ctl), if any. */
function findBinaries(): string | undefined {
  const fromEnv = process.env.VALKEYRIE_BENCH_POSTGRES_BIN
  if (fromEnv) return fromEnv
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return onPath('initdb')
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? onPath('initdb') : join(root, versions[0], 'bin')
}

function onPath(program: string): string | undefined {
  const which = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' })
  const path = which.stdout.trim()
  return which.status === 0 && path !== '' ? path.slice(0, path.lastIndexOf('/')) : undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Postgres refuses to run as root: as root, the server runs as the `postgres` OS user. */
function asServerUser(): string[] {
  if (process.getuid?.() !== 0) return []
  const user = spawnSync('id', ['-u', 'postgres'])
  return user.status === 0 ? ['runuser', '-u', 'postgres', '--'] : []
}

function run(command: string[], what: string): string | undefined {
  const [program, ...args] = command
  const result = spawnSync(program!, args, { encoding: 'utf8' })
  if (result.error) return `${what} failed: ${result.error.message}`
  if (result.status !== 0) return `${what} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim().split('\n').at(-1)}`
  return undefined
}

/** Starts a throwaway server, or says why it could not. */
async function startThrowaway(): Promise<ServerOrReason> {
  const bin = findBinaries()
  if (bin === undefined) return { skipped: `no PostgreSQL binaries found (set ${URL_VARIABLE} to a server's URL)` }
  const prefix = asServerUser()
  if (process.getuid?.() === 0 && prefix.length === 0) return { skipped: 'running as root without a postgres OS user' }
  const dir = mkdtempSync(join(tmpdir(), 'valkeyrie-bench-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  const initProblem = run(
    [...prefix, join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    'initdb',
  )
  if (initProblem) {
    cleanup()
    return { skipped: initProblem }
  }
  const port = await freePort()
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB`
  const startProblem = run(
    [...prefix, join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start'],
    'pg_ctl start',
  )
  if (startProblem) {
    cleanup()
    return { skipped: startProblem }
  }
  const version = bin.split('/').at(-2) ?? '?'
  return {
    server: {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      origin: `a throwaway PostgreSQL ${version} server on 127.0.0.1 (fsync on, defaults otherwise)`,
      stop() {
        run([...prefix, join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'], 'pg_ctl stop')
        cleanup()
      },
    },
  }
}

/** The server at the environment's URL, or a throwaway one. */
export async function benchServer(): Promise<ServerOrReason> {
  const url = process.env[URL_VARIABLE]
  if (url !== undefined && url !== '') return { server: { url, origin: `the server at $${URL_VARIABLE}`, stop() {} } }
  return startThrowaway()
}
