/**
 * `readOnly: true`: reading a database without writing anything, including files this process cannot write.
 * The real read-only cases run in a child process without write permission: when the tests run as root (which
 * ignores file modes), as root without the capabilities that let it; as the current user otherwise.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { OpenError, ReadOnlyError, Valkeyrie } from '../../src/index.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'

const WORKER = fileURLToPath(new URL('../support/worker.ts', import.meta.url))
const T0 = 1_000_000

/** A database holding ['a'] and ['temp'] (expiring at T0 + 1000), closed. */
async function fixture(): Promise<string> {
  const path = tempDbPath()
  const db = await Valkeyrie.open(path, { clock: () => T0 })
  await db.set(['a'], 'alpha')
  await db.set(['temp'], 'gone', { expireIn: 1000 })
  await db.close()
  return path
}

const rawCount = (path: string): number => {
  const raw = new Database(path, { readonly: true })
  try {
    return (raw.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n
  } finally {
    raw.close()
  }
}

/** Runs the worker's `read-only` command without write permission on the file and its folder. */
function readWithoutPermission(path: string) {
  chmodSync(path, 0o444)
  chmodSync(dirname(path), 0o555)
  try {
    // Root ignores file modes through two capabilities: without them it is held to the modes above, while it can
    // still read the repository wherever it lies (another user could not read a checkout in a private folder).
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] : []
    const command = [...asUser, process.execPath, '--import', 'tsx', WORKER, 'read-only', path, String(T0 + 5000)]
    const run = spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', timeout: 60_000 })
    if (run.status !== 0) throw new Error(`worker failed (${run.status}): ${run.stderr}`)
    return JSON.parse(run.stdout)
  } finally {
    chmodSync(dirname(path), 0o755)
    chmodSync(path, 0o644)
  }
}

function expectReadOnlyRun(result: ReturnType<typeof readWithoutPermission>, value = 'alpha'): void {
  expect(result.writable, 'the child could write the file: not a read-only situation').toBe(false)
  expect(result.plain).toMatch(/^OpenError: cannot open .*: (it|its folder .*) is read-only .*readOnly: true/)
  expect(result.value).toBe(value)
  expect(result.expired).toBeNull()
  expect(result.listed).toEqual([['a']])
  for (const error of result.errors) expect(error).toMatch(/^ReadOnlyError: cannot (set|delete|commit|clean up)/)
}

describe('readOnly: true', () => {
  it('reads a closed WAL file in a folder it cannot write, changing nothing', async () => {
    const path = await fixture()
    const before = readFileSync(path)
    expectReadOnlyRun(readWithoutPermission(path))
    expect(readFileSync(path).equals(before)).toBe(true)
    expect(readdirSync(dirname(path))).toEqual(['test.db'])
  })

  it('reads a file another process has open, seeing its latest commit from the -wal file', async () => {
    const path = await fixture()
    const writer = await Valkeyrie.open(path, { clock: () => T0 })
    await writer.set(['a'], 'alpha 2') // stays in the -wal file: far below the checkpoint size
    expect(existsSync(`${path}-wal`) && existsSync(`${path}-shm`)).toBe(true)
    try {
      expectReadOnlyRun(readWithoutPermission(path), 'alpha 2')
    } finally {
      await writer.close()
    }
  })

  it('rejects writes, commits and cleanup with ReadOnlyError and leaves expired rows in place', async () => {
    const path = await fixture()
    const db = await openTestDb(path, { readOnly: true, clock: () => T0 + 5000, sweepInterval: 1 })
    expect((await db.get(['temp'])).value).toBeNull()
    expect(await Array.fromAsync(db.list({ prefix: ['temp'] }))).toEqual([])
    for (const write of [db.set(['b'], 1), db.delete(['a']), db.atomic().sum(['n'], 1n).commit(), db.cleanup()]) {
      const error = await rejection(write)
      expect(error).toBeInstanceOf(ReadOnlyError)
      expect(error.message).toMatch(/the database was opened with readOnly: true$/)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(rawCount(path)).toBe(2)
    await db.close()
    expect(rawCount(path)).toBe(2)
  })

  it('refuses a missing file, and a file that needs a migration, without creating or changing anything', async () => {
    const missing = tempDbPath()
    expect(await rejection(Valkeyrie.open(missing, { readOnly: true }))).toMatchObject({
      name: 'OpenError',
      message: expect.stringMatching(/does not exist/),
    })
    expect(existsSync(missing)).toBe(false)

    const empty = tempDbPath()
    new Database(empty).exec('CREATE TABLE __valkeyrie_migrations (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)')
    const before = readFileSync(empty)
    const error = await rejection(Valkeyrie.open(empty, { readOnly: true }))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/needs a migration .* read-only open cannot apply/)
    expect(readFileSync(empty).equals(before)).toBe(true)
  })

  it('is validated with the other options', async () => {
    await expect(Valkeyrie.open(tempDbPath(), { readOnly: 'yes' as never })).rejects.toThrow(
      new TypeError('readOnly must be a boolean: received "yes"'),
    )
    await expect(Valkeyrie.open(undefined, { readOnly: true })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open(':memory:', { readOnly: true })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open('x.db', { readOnly: true, driver: () => ({}) as never })).rejects.toThrow(TypeError)
  })
})
