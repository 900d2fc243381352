/**
 * Read-only descriptors of `-shm` files, for wal-index.ts, shared in the process and closed only once SQLite has
 * deleted the file.
 *
 * Closing any descriptor of a file drops every POSIX lock the process holds on that file, whoever took it: closing
 * ours while some connection of this process (another Valkeyrie, a driver's, the application's own) still has the
 * database open would silently drop that connection's locks on `-shm` (its WAL write lock, its read marks), and
 * another process could then write beside it. SQLite deletes `-shm` when the last connection to the database
 * closes; until then no connection needs our descriptor closed. So one descriptor per file is lent to every user,
 * and when the last one is done with it, it is closed if the file has been deleted, else kept aside and closed
 * once it has been (looked at whenever a descriptor is taken or given back).
 */
import { closeSync, fstatSync, openSync, statSync } from 'node:fs'

interface Lent {
  fd: number
  users: number
}

/** By device and inode: two paths to one file share one descriptor. */
const lent = new Map<string, Lent>()
/** Descriptors nobody uses whose file still existed when their last user gave them back. */
const keptAside = new Set<number>()

const fileId = (stats: { dev: number; ino: number }): string => `${stats.dev}:${stats.ino}`

/** A descriptor of the file at `path`, or undefined if it cannot be opened. Give it back with `giveBackShmFile`. */
export function takeShmFile(path: string): { fd: number; id: string } | undefined {
  closeDeleted()
  try {
    const byPath = fileId(statSync(path))
    const known = lent.get(byPath)
    if (known !== undefined) {
      known.users++
      return { fd: known.fd, id: byPath }
    }
    const fd = openSync(path, 'r')
    // The file opened, which may not be the one looked up by path a moment ago.
    const id = fileId(fstatSync(fd))
    const again = lent.get(id)
    if (again !== undefined) {
      // Another descriptor of a file in use: it may not be closed before the file is deleted either.
      keptAside.add(fd)
      again.users++
      return { fd: again.fd, id }
    }
    lent.set(id, { fd, users: 1 })
    return { fd, id }
  } catch {
    return undefined
  }
}

/** Gives back a descriptor from `takeShmFile`, once the connection it served has closed. */
export function giveBackShmFile(id: string): void {
  const entry = lent.get(id)
  if (entry === undefined || --entry.users > 0) return
  lent.delete(id)
  keptAside.add(entry.fd)
  closeDeleted()
}

/** Closes the descriptors kept aside whose file has been deleted since. */
function closeDeleted(): void {
  for (const fd of keptAside) {
    let deleted: boolean
    try {
      deleted = fstatSync(fd).nlink === 0
    } catch {
      // Not an open descriptor any more: nothing to close.
      keptAside.delete(fd)
      continue
    }
    if (!deleted) continue
    keptAside.delete(fd)
    closeSync(fd)
  }
}
