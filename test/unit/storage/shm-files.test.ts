/**
 * The shared `-shm` descriptors of src/storage/sqlite/shm-files.ts: one per file, and never closed while the file
 * exists (closing it would drop the process's POSIX locks on it, SQLite's included).
 */
import { readlinkSync, realpathSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { giveBackShmFile, takeShmFile } from '../../../src/storage/sqlite/shm-files.js'
import { tempDbPath } from '../../support/open-test-db.js'

/** The file a descriptor of this process refers to (`… (deleted)` once unlinked), or undefined if it is closed. */
function target(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return undefined
  }
}

function walDatabase(path: string): Database.Database {
  const client = new Database(path)
  client.pragma('journal_mode = WAL')
  client.exec('CREATE TABLE IF NOT EXISTS t (x)')
  return client
}

describe.runIf(process.platform === 'linux')('shm files', () => {
  it('lends one descriptor per file, and closes it only once SQLite has deleted the file', () => {
    const path = tempDbPath()
    const [a, b] = [walDatabase(path), walDatabase(path)]
    const shm = realpathSync(`${path}-shm`)
    const first = takeShmFile(`${path}-shm`)
    const second = takeShmFile(`${path}-shm`)
    expect(first).toBeDefined()
    expect(second?.fd).toBe(first?.fd)
    const { fd, id } = first!
    giveBackShmFile(id)
    giveBackShmFile(id)
    // Nobody uses it, but the database is still open: it stays open.
    expect(target(fd)).toBe(shm)
    a.close()
    b.close()
    // The last connection deleted the file; the next take closes the descriptor kept aside.
    expect(target(fd)).toBe(`${shm} (deleted)`)
    const other = tempDbPath()
    const c = walDatabase(other)
    const next = takeShmFile(`${other}-shm`)
    expect(target(fd)).not.toBe(`${shm} (deleted)`)
    giveBackShmFile(next!.id)
    c.close()
  })

  it('gives nothing for a file that does not exist', () => {
    expect(takeShmFile(`${tempDbPath()}-shm`)).toBeUndefined()
  })
})
