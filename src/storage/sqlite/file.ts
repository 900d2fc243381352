/**
 * The database file at rest, before SQLite opens it: whether this process may write it, its creation whole or not
 * at all, and whether it is as long as its header says.
 */
import { randomBytes } from 'node:crypto'
import { accessSync, closeSync, constants, copyFileSync, existsSync, linkSync, openSync, readSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { OpenError } from '../../errors.js'

/**
 * Refuses, with the reason, a file or folder this process may not write: SQLite would otherwise open the file
 * read-only without a word and fail at the first write.
 */
export function assertWritable(path: string, folder: string): void {
  const hint = 'open it with readOnly: true to read it'
  if (existsSync(path) && !canWrite(path)) throw new OpenError(path, `it is read-only for this process: ${hint}`)
  if (!canWrite(folder)) {
    const why = existsSync(path) ? `SQLite keeps its -wal and -shm files there: ${hint}` : 'the file cannot be created'
    throw new OpenError(path, `its folder ${folder} is read-only for this process, and ${why}`)
  }
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Creates a new file whole or not at all: `build` makes it under a temporary name in the same folder (and closes
 * it), then it is linked into place, so a failed creation (a full disk) leaves nothing behind and no other process
 * ever sees a half-made file. When another process created the file meanwhile, its file wins.
 */
export function createFileWhole(path: string, build: (temp: string) => void): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.new`)
  try {
    build(temp)
    placeNewFile(temp, path)
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(temp + suffix, { force: true })
  }
}

/** Puts the finished file at `path` unless a file is there already (never replacing one). */
function placeNewFile(temp: string, path: string): void {
  try {
    linkSync(temp, path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return
    // A file system without hard links: an exclusive copy, which also never replaces a file.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error
    try {
      copyFileSync(temp, path, constants.COPYFILE_EXCL)
    } catch (copyError) {
      if ((copyError as NodeJS.ErrnoException).code !== 'EEXIST') throw copyError
    }
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Refuses a SQLite file shorter than its header says, before SQLite opens it: a truncated database would
 * otherwise open and fail (or lose data) later. Other files are left for SQLite to judge (SQLITE_NOTADB).
 * See https://www.sqlite.org/fileformat.html#the_database_header for the fields read here.
 *
 * The bytes are read without a lock, so this looks only at a file at rest: with a `-wal` file beside it another
 * connection may be checkpointing (writing page 1 before the pages after it), and a short file is read again a
 * few times before it is called truncated.
 */
export function assertWholeFile(path: string): void {
  if (existsSync(`${path}-wal`)) return
  for (let attempt = 0; ; attempt++) {
    const shortfall = headerShortfall(path)
    if (shortfall === undefined) return
    if (attempt === 3) throw new OpenError(path, `it is truncated (${shortfall.size} bytes, but its header says ${shortfall.expected})`)
    sleepSync(20)
  }
}

/** The file's size and the size its header gives, when the file is a SQLite database shorter than that. */
function headerShortfall(path: string): { size: number; expected: number } | undefined {
  const header = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  let read: number
  try {
    read = readSync(fd, header, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  const size = statSync(path).size
  if (read < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) return undefined
  const rawPageSize = header.readUInt16BE(16)
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize
  // The page count in the header is valid only when its "version-valid-for" number matches the change counter.
  const pageCount = header.readUInt32BE(92) === header.readUInt32BE(24) ? header.readUInt32BE(28) : 0
  const expected = pageSize * pageCount
  return size < expected ? { size, expected } : undefined
}

/** Blocks for `ms`: opening is synchronous, like the rest of better-sqlite3. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
