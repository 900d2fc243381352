/**
 * `PRAGMA data_version` at the price of one read of 48 bytes, for the read cache's check before every cached read.
 *
 * The pragma opens a read transaction: on Linux two `fcntl` calls on the `-shm` file to take and drop a read lock,
 * about two thirds of the time of a `get` the cache answers. But every commit to a WAL database, whichever
 * connection makes it, rewrites the WAL-index header at the start of the `-shm` file (at least its change counter
 * `iChange`; https://sqlite.org/walformat.html), and SQLite publishes a commit to readers by writing that first copy
 * of the header. So while those 48 bytes are the ones read just before the pragma last ran, no connection has
 * committed since, and the counter the pragma returned is still the counter now. When they differ (a commit, this
 * connection's own included, or a checkpoint that restarted the WAL) the pragma runs again. Nothing is cached on
 * the strength of this check alone: it only ever skips a pragma whose answer is known.
 *
 * Used only where the file is in WAL mode on Linux or macOS, whose page cache makes what SQLite writes through its
 * memory map of `-shm` visible to `read` at once, and only while the header carries the format this code knows;
 * anywhere else every check is the pragma. The `-shm` file cannot be replaced while the connection is open (SQLite
 * deletes it only when it holds the last connection to the database).
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { endianness } from 'node:os'
import type Database from 'better-sqlite3'

/** Bytes of the first copy of the WAL-index header. */
const HEADER_BYTES = 48
/** `iVersion`, the header's first field, in every WAL-index SQLite has written since 3.7.0. */
const WAL_INDEX_VERSION = 3007000
/** Byte offset of `isInit`, 1 once the header is initialised. */
const IS_INIT_OFFSET = 12
/** The WAL-index is in the machine's byte order. */
const LITTLE_ENDIAN = endianness() === 'LE'

export interface ChangeCounter {
  /** The connection's `PRAGMA data_version` now. */
  read(): number
  close(): void
}

/** A change counter for the connection: the pragma itself, behind the `-shm` header when that can be read. */
export function changeCounter(client: Database.Database, dataVersion: () => number): ChangeCounter {
  const fd = openHeader(client)
  if (fd === undefined) return { read: dataVersion, close: () => {} }
  let seen = Buffer.alloc(HEADER_BYTES)
  let scratch = Buffer.alloc(HEADER_BYTES)
  /** The counter the pragma returned after `seen` was read; undefined when `seen` is not to be trusted. */
  let version: number | undefined
  let open = true
  return {
    read() {
      if (!readHeader(fd, scratch)) {
        version = undefined
        return dataVersion()
      }
      if (version !== undefined && scratch.equals(seen)) return version
      // The header read before the pragma: a commit between the two makes the next read differ from `seen`.
      ;[seen, scratch] = [scratch, seen]
      version = dataVersion()
      return version
    },
    close() {
      if (open) closeSync(fd)
      open = false
    },
  }
}

/** A read-only descriptor of the connection's `-shm` file, or undefined where the header cannot stand in. */
function openHeader(client: Database.Database): number | undefined {
  if (client.memory || (process.platform !== 'linux' && process.platform !== 'darwin')) return undefined
  try {
    if (String(client.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined
    const fd = openSync(`${client.name}-shm`, 'r')
    if (readHeader(fd, Buffer.alloc(HEADER_BYTES))) return fd
    closeSync(fd)
  } catch {
    // No -shm file to read: the pragma it is.
  }
  return undefined
}

/** Reads the header's first copy into `into`; false unless it is whole, initialised and of the known format. */
function readHeader(fd: number, into: Buffer): boolean {
  try {
    if (readSync(fd, into, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return false
  } catch {
    return false
  }
  const format = LITTLE_ENDIAN ? into.readUInt32LE(0) : into.readUInt32BE(0)
  return format === WAL_INDEX_VERSION && into[IS_INIT_OFFSET] === 1
}
