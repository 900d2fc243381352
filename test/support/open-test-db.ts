/** Helpers shared by the tests: databases in memory or in fresh temporary files. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { type DriverFactory, Valkeyrie, type ValkeyrieOptions } from '../../src/index.js'

const opened: Valkeyrie[] = []
const folders: string[] = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()))
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-test-'))
  folders.push(folder)
  return folder
}

/** A path for a new database file in a fresh temporary folder. */
export const tempDbPath = (name = 'test.db'): string => join(tempDir(), name)

/** Opens an in-memory database (or the given path), closed after the test. */
export async function openTestDb(path?: string, options?: ValkeyrieOptions | DriverFactory): Promise<Valkeyrie> {
  const db = await Valkeyrie.open(path, options)
  opened.push(db)
  return db
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the promise to reject')
}
