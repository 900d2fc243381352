/**
 * A PostgreSQL server for the tests: the one an environment variable names, or a throwaway one started from the
 * installed server binaries (initdb into a temporary folder, listening on 127.0.0.1 and a socket in that folder,
 * stopped and removed at the end). Used by the vitest global setup (test/support/postgres-setup.ts) and by the
 * Postgres multi-process suite, which starts a server of its own to stop and restart.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A server URL to test against (its user may create schemas); when set, no server is started. */
export const URL_VARIABLE = 'VALKEYRIE_TEST_POSTGRES_URL'
/** When `1`, Postgres tests that would be skipped fail instead (CI sets it). */
export const REQUIRE_VARIABLE = 'VALKEYRIE_REQUIRE_POSTGRES'
/** The folder holding initdb and pg_ctl, when neither is on PATH nor in Debian's /usr/lib/postgresql/<version>/bin. */
export const BIN_VARIABLE = 'VALKEYRIE_POSTGRES_BIN'

/** What the global setup gives the tests (vitest `provide`/`inject` under the name `postgres`). */
export type PostgresProvided =
  | { url: string; runId: string; skipped?: undefined }
  | { url?: undefined; runId: string; skipped: string }

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresProvided
  }
}

export const postgresRequired = (): boolean => process.env[REQUIRE_VARIABLE] === '1'

/** The folder holding initdb and pg_ctl: the variable's, the one on PATH, else Debian's newest; undefined if none. */
export function findServerBin(): string | undefined {
  const has = (folder: string) => existsSync(join(folder, 'initdb')) && existsSync(join(folder, 'pg_ctl'))
  const given = process.env[BIN_VARIABLE]
  if (given) return has(given) ? given : undefined
  for (const folder of (process.env.PATH ?? '').split(delimiter)) if (folder && has(folder)) return folder
  const debian = '/usr/lib/postgresql'
  if (!existsSync(debian)) return undefined
  const versions = readdirSync(debian)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
  return versions.map((version) => join(debian, version, 'bin')).find(has)
}

/** A port nothing listens on at the moment (the kernel's choice). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

const isRoot = (): boolean => process.getuid?.() === 0

/** Runs a server binary; as root, as the `postgres` OS user (initdb and the server refuse to run as root). */
async function asServerUser(bin: string, command: string, args: string[]): Promise<string> {
  const file = join(bin, command)
  try {
    const { stdout } = isRoot()
      ? await run('runuser', ['-u', 'postgres', '--', file, ...args])
      : await run(file, args)
    return stdout
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string }
    throw new Error(`${command} ${args.join(' ')} failed: ${(stderr || stdout || String(error)).trim()}`, { cause: error })
  }
}

async function ensureServerUser(folder: string): Promise<void> {
  if (!isRoot()) return
  try {
    await run('id', ['-u', 'postgres'])
  } catch {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'])
  }
  const { stdout } = await run('id', ['-u', 'postgres'])
  const { stdout: group } = await run('id', ['-g', 'postgres'])
  chownSync(folder, Number(stdout.trim()), Number(group.trim()))
}

export interface ThrowawayServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string
  readonly port: number
  /** The temporary folder: data/, the log and the socket. */
  readonly folder: string
  /** `pg_ctl start`: resolves once the server accepts connections. */
  start(): Promise<void>
  /** `pg_ctl stop -m <mode>`: 'immediate' is a crash (no checkpoint; recovery replays the WAL on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  /** Stops the server if it runs and removes the folder. */
  remove(): Promise<void>
}

/**
 * Starts a throwaway server from the binaries in `bin`: a fresh cluster in a temporary folder, on a free port of
 * 127.0.0.1 and a socket in that folder. fsync is off (a crash of the machine is not what the tests are about;
 * a crash of the server is, and `synchronous_commit` stays on, so an acknowledged commit is in the WAL).
 */
export async function startThrowawayServer(bin: string, settings: Record<string, string> = {}): Promise<ThrowawayServer> {
  const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-pg-'))
  let running = false
  const data = join(folder, 'data')
  try {
    await ensureServerUser(folder)
    await asServerUser(bin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'])
  } catch (error) {
    rmSync(folder, { recursive: true, force: true })
    throw error
  }
  const port = await freePort()
  const options = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: folder,
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: '400',
    ...settings,
  }
  const optionString = Object.entries(options)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ')
  const server: ThrowawayServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    folder,
    async start() {
      await asServerUser(bin, 'pg_ctl', ['-D', data, '-l', join(folder, 'log'), '-w', '-t', '30', '-o', optionString, 'start'])
      running = true
    },
    async stop(mode = 'fast') {
      await asServerUser(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'])
      running = false
    },
    async remove() {
      try {
        if (running) await server.stop('immediate')
      } finally {
        rmSync(folder, { recursive: true, force: true })
      }
    },
  }
  try {
    await server.start()
  } catch (error) {
    await server.remove()
    throw error
  }
  return server
}

/** The one line printed when the Postgres tests cannot run: why, and how to run them (a skip, or the failure when required). */
export const skipLine = (why: string): string =>
  `Postgres tests ${postgresRequired() ? `cannot run (${REQUIRE_VARIABLE}=1)` : 'skipped'}: ${why}. Install the ` +
  `PostgreSQL server (Debian: apt-get install postgresql) or set ${URL_VARIABLE}=postgres://user@host:port/database` +
  `${postgresRequired() ? '' : `; ${REQUIRE_VARIABLE}=1 makes this skip a failure`}.`
