/**
 * Corrupt or foreign files: open refuses with an OpenError naming the file and the cause, never modifies the file,
 * and never puts an empty database in its place.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { OpenError, Valkeyrie, ValkeyrieError } from '../../src/index.js'
import { rejection, tempDbPath } from '../support/open-test-db.js'

async function expectRefused(path: string, cause: RegExp): Promise<void> {
  const before = readFileSync(path)
  const error = await rejection(Valkeyrie.open(path))
  expect(error).toBeInstanceOf(OpenError)
  expect(error).toBeInstanceOf(ValkeyrieError)
  expect(error.message).toContain(path)
  expect(error.message).toMatch(cause)
  expect(readFileSync(path).equals(before), 'the file was modified').toBe(true)
  for (const suffix of ['-wal', '-shm', '-journal']) expect(existsSync(path + suffix), `${suffix} left behind`).toBe(false)
}

async function valkeyrieFile(entries = 2000): Promise<string> {
  const path = tempDbPath('victim.db')
  const db = await Valkeyrie.open(path)
  for (let batch = 0; batch < entries / 500; batch++) {
    const op = db.atomic()
    for (let i = 0; i < 500; i++) op.set(['k', batch, i], { text: 'x'.repeat(100) })
    await op.commit()
  }
  await db.close() // checkpoints the WAL into the main file
  return path
}

describe('corrupt or foreign files', () => {
  it('refuses a truncated database', async () => {
    const path = await valkeyrieFile()
    truncateSync(path, Math.floor(statSync(path).size / 2))
    await expectRefused(path, /truncated/)
  })

  it('refuses a file of random bytes', async () => {
    const path = tempDbPath('random.db')
    writeFileSync(path, randomBytes(64 * 1024))
    await expectRefused(path, /not a database/)
  })

  it('refuses a file of random bytes behind a valid SQLite header', async () => {
    const path = await valkeyrieFile()
    const bytes = readFileSync(path)
    randomBytes(bytes.length - 100).copy(bytes, 100)
    writeFileSync(path, bytes)
    await expectRefused(path, /malformed|not a database|corrupt/i)
  })

  it('refuses a text file', async () => {
    const path = tempDbPath('notes.txt')
    writeFileSync(path, 'shopping list\n- milk\n- bread\n'.repeat(100))
    await expectRefused(path, /not a database/)
  })

  it("refuses another application's SQLite database", async () => {
    const path = tempDbPath('other-app.db')
    const raw = new Database(path)
    raw.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)")
    raw.close()
    await expectRefused(path, /not a Valkeyrie database .*invoices/)
  })

  it('opens its own database again after the refusals (the checks do not reject good files)', async () => {
    const path = await valkeyrieFile(500)
    const db = await Valkeyrie.open(path)
    expect(await Array.fromAsync(db.list({ prefix: ['k'] }))).toHaveLength(500)
    await db.close()
  })
})
