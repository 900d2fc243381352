import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS_TABLE } from '../../../src/storage/format.js'
import { openDatabase, type OpenFileOptions } from '../../../src/storage/sqlite/database.js'
import { SqliteStorage } from '../../../src/storage/sqlite/storage.js'
import { tempDbPath, tempDir } from '../../support/open-test-db.js'

const options = (path: string, extra: Partial<OpenFileOptions> = {}): OpenFileOptions => ({
  path,
  durability: 'full',
  busyTimeout: 5000,
  ...extra,
})

/** Opens like Valkeyrie.open does: the file, then the serializer record. */
function openChecked(path: string, serializer = 'v8') {
  const opened = openDatabase(options(path))
  const storage = new SqliteStorage(opened)
  try {
    expect(storage.recordSerializer(serializer)).toBe(serializer)
  } catch (error) {
    storage.close()
    throw error
  }
  return opened
}

describe('openDatabase', () => {
  it('sets WAL, the busy timeout and synchronous=FULL on every open, including a reopen', () => {
    const path = tempDbPath()
    for (let i = 0; i < 2; i++) {
      const { client } = openDatabase(options(path))
      expect(client.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(client.pragma('synchronous', { simple: true })).toBe(2) // FULL
      expect(client.pragma('busy_timeout', { simple: true })).toBe(5000)
      client.close()
    }
  })

  it("maps durability 'relaxed' to synchronous=NORMAL", () => {
    const { client } = openDatabase(options(tempDbPath(), { durability: 'relaxed' }))
    expect(client.pragma('synchronous', { simple: true })).toBe(1) // NORMAL
    client.close()
  })

  it('applies the drizzle migrations once and records them in its own journal', () => {
    const path = tempDbPath()
    openChecked(path).client.close()
    openChecked(path).client.close()
    const raw = new Database(path)
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()
    expect(tables).toEqual([MIGRATIONS_TABLE, 'kv', 'kv_meta', 'kv_queue'])
    expect(raw.prepare(`SELECT count(*) FROM ${MIGRATIONS_TABLE}`).pluck().get()).toBe(2) // one row per migration: the tables, then the queue table
    expect(raw.prepare('SELECT serializer, format_version, version FROM kv_meta').get()).toEqual({
      serializer: 'v8',
      format_version: 1,
      version: 0,
    })
    raw.close()
  })

  it('refuses a missing folder, naming the path', () => {
    const path = join(tempDir(), 'no', 'such', 'folder', 'x.db')
    expect(() => openDatabase(options(path))).toThrow(/cannot open .*x\.db: the folder .* does not exist/)
  })

  it('refuses a file that is not a database and leaves it untouched', () => {
    const path = tempDbPath('notes.txt')
    writeFileSync(path, 'these are not the bytes of a SQLite database, just some text that is long enough\n'.repeat(20))
    const before = readFileSync(path)
    expect(() => openDatabase(options(path))).toThrow(/cannot open .*notes\.txt: file is not a database/)
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('refuses the SQLite database of another application and leaves it untouched', () => {
    const path = tempDbPath('other.db')
    const raw = new Database(path)
    raw.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)')
    raw.close()
    const before = readFileSync(path)
    expect(() => openDatabase(options(path))).toThrow(/not a Valkeyrie database .*customers/)
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('keeps the serializer recorded first, and reports it to a later open with another one', () => {
    const path = tempDbPath()
    openChecked(path).client.close()
    const storage = new SqliteStorage(openDatabase(options(path)))
    expect(storage.recordSerializer('json')).toBe('v8')
    storage.close()
  })

  it('refuses a database migrated by a newer version', () => {
    const path = tempDbPath()
    openDatabase(options(path)).client.close()
    const raw = new Database(path)
    raw.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES ('future', 99999999999999)`).run()
    raw.close()
    expect(() => openDatabase(options(path))).toThrow(/newer version/)
  })

  it('refuses a Valkeyrie file with a trigger, a view or an index it did not create, and leaves it untouched', () => {
    for (const planted of [
      "CREATE TRIGGER rewrite AFTER INSERT ON kv BEGIN UPDATE kv SET value = x'00' WHERE key = new.key; END",
      'CREATE VIEW everything AS SELECT * FROM kv',
      'CREATE INDEX kv_by_value ON kv (value)',
      'CREATE TABLE extra (id INTEGER PRIMARY KEY)',
    ]) {
      const path = tempDbPath()
      openChecked(path).client.close()
      const raw = new Database(path)
      raw.exec(planted)
      raw.close()
      const before = readFileSync(path)
      expect(() => openDatabase(options(path)), planted).toThrow(/has objects Valkeyrie did not create: (trigger rewrite|view everything|index kv_by_value|table extra)/)
      expect(readFileSync(path).equals(before)).toBe(true)
    }
  })

  it('accepts its own objects, as every migration leaves them', () => {
    const path = tempDbPath()
    openChecked(path).client.close()
    expect(() => openChecked(path).client.close()).not.toThrow()
  })
})
