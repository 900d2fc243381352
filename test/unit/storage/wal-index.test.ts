/**
 * The change counter behind the read cache (src/storage/sqlite/wal-index.ts): always what `PRAGMA data_version`
 * answers, and the pragma itself only when the `-shm` header says a commit or checkpoint may have happened.
 */
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { prepareDataVersion } from '../../../src/storage/sqlite/queries.js'
import { type ChangeCounter, changeCounter } from '../../../src/storage/sqlite/wal-index.js'
import { tempDbPath } from '../../support/open-test-db.js'

const connections: Database.Database[] = []
const counters: ChangeCounter[] = []
afterEach(() => {
  for (const client of connections.splice(0)) client.close()
  // After the connections, as the storage does.
  for (const counter of counters.splice(0)) counter.close()
})

function connect(path: string): Database.Database {
  const client = new Database(path)
  connections.push(client)
  return client
}

/** A counter on `client` that counts the pragmas it runs. */
function counted(client: Database.Database) {
  const pragma = prepareDataVersion(client)
  const calls = { pragmas: 0 }
  const counter = changeCounter(client, () => {
    calls.pragmas++
    return pragma()
  })
  counters.push(counter)
  return { counter, calls, pragma }
}

/** A new WAL file with a table, two connections to it, and a counted counter on the first. */
function walFile() {
  const path = tempDbPath()
  const mine = connect(path)
  mine.pragma('journal_mode = WAL')
  mine.exec('CREATE TABLE t (x)')
  const other = connect(path)
  return { mine, other, ...counted(mine) }
}

describe('changeCounter', () => {
  it('answers what PRAGMA data_version answers, and runs it again only after a commit or checkpoint', () => {
    const { mine, other, counter, calls, pragma } = walFile()

    const first = counter.read()
    for (let i = 0; i < 100; i++) expect(counter.read()).toBe(first)
    expect(calls.pragmas).toBe(1)

    // Another connection commits: the counter moves, as the pragma's does.
    other.exec('INSERT INTO t VALUES (1)')
    const second = counter.read()
    expect(second).not.toBe(first)
    expect(second).toBe(pragma())
    expect(counter.read()).toBe(second)
    expect(calls.pragmas).toBe(2)

    // This connection's own commit rewrites the header too, so the pragma runs, and says nothing moved.
    mine.exec('INSERT INTO t VALUES (2)')
    expect(counter.read()).toBe(second)
    expect(calls.pragmas).toBe(3)

    // A checkpoint that restarts the WAL, then a commit into the restarted WAL: seen.
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }])
    counter.read()
    other.exec('INSERT INTO t VALUES (3)')
    const third = counter.read()
    expect(third).not.toBe(second)
    expect(third).toBe(pragma())
  })

  it("after the connection's own commit, runs the pragma without reading the header, then checks the header again", () => {
    const { mine, other, counter, calls, pragma } = walFile()
    const first = counter.read()
    mine.exec('INSERT INTO t VALUES (1)')
    counter.committed()
    expect(counter.read()).toBe(first)
    expect(calls.pragmas).toBe(2)
    // Not yet a header to compare with: the next read takes one and runs the pragma; then nothing runs it.
    expect(counter.read()).toBe(first)
    for (let i = 0; i < 10; i++) expect(counter.read()).toBe(first)
    expect(calls.pragmas).toBe(3)
    other.exec('INSERT INTO t VALUES (2)')
    expect(counter.read()).toBe(pragma())
    expect(counter.read()).not.toBe(first)
  })

  it('is the pragma itself where there is no WAL-index to read: in memory and with a rollback journal', () => {
    const memory = counted(connect(':memory:'))
    const path = tempDbPath()
    const rollback = connect(path)
    rollback.pragma('journal_mode = DELETE')
    rollback.exec('CREATE TABLE t (x)')
    const journal = counted(rollback)
    for (const { counter, calls } of [memory, journal]) {
      for (let i = 0; i < 5; i++) counter.read()
      expect(calls.pragmas).toBe(5)
    }
    // Another connection's commit to the rollback-journal file is seen.
    const before = journal.counter.read()
    connect(path).exec('INSERT INTO t VALUES (1)')
    expect(journal.counter.read()).not.toBe(before)
  })
})
