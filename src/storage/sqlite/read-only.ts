/**
 * The connection of a read-only open. SQLite reads a WAL database it may not write only when its -shm and -wal
 * files exist already, or when it can create them in the folder (https://www.sqlite.org/wal.html, "Read-Only
 * Databases"); its third way, the `immutable` URI parameter, is not reachable through better-sqlite3. A file
 * closed cleanly in a folder this process cannot write meets neither condition, and it has no -wal file, so the
 * whole database is in the file: it is read into memory (marked as a rollback-journal database, which the
 * in-memory copy must be) and opened from there.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import Database from 'better-sqlite3'

/** Opens `path` to read only: in place when SQLite can, else from an in-memory copy of a WAL file. */
export function openReadOnlyClient(path: string): Database.Database {
  const client = new Database(path, { readonly: true, fileMustExist: true })
  try {
    // The first read is what needs the -shm file.
    client.prepare('SELECT count(*) FROM sqlite_master').get()
    return client
  } catch (error) {
    client.close()
    const code = (error as { code?: string }).code
    const walFile = `${path}-wal`
    if (code !== 'SQLITE_READONLY_DIRECTORY' || (existsSync(walFile) && statSync(walFile).size > 0)) throw error
  }
  const bytes = readFileSync(path)
  // File format bytes 18 and 19: 2 for WAL, 1 for a rollback journal (https://www.sqlite.org/fileformat.html).
  bytes.fill(1, 18, 20)
  const copy = new Database(bytes)
  copy.pragma('query_only = ON')
  return copy
}
