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
 * deletes it only when it holds the last connection to the database); the descriptor that reads it is shared and
 * closed only once the file is gone (shm-files.ts).
 */
import { readSync } from 'node:fs'
import { endianness } from 'node:os'
import type Database from 'better-sqlite3'
import { giveBackShmFile, takeShmFile } from './shm-files.js'

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
  /**
   * Told after each commit of the connection itself, which rewrote the header: the next read runs the pragma
   * without reading the header first (it would differ), the one after reads both again.
   */
  committed(): void
  /** Only once the connection has closed (see shm-files.ts). */
  close(): void
}

/** A change counter for the connection: the pragma itself, behind the `-shm` header when that can be read. */
export function changeCounter(client: Database.Database, dataVersion: () => number): ChangeCounter {
  const shm = openHeader(client)
  if (shm === undefined) return { read: dataVersion, committed: () => {}, close: () => {} }
  const { fd, id } = shm
  let seen = Buffer.alloc(HEADER_BYTES)
  let scratch = Buffer.alloc(HEADER_BYTES)
  /** The counter the pragma returned after `seen` was read; undefined when `seen` is not to be trusted. */
  let version: number | undefined
  /** Set by `committed`: skip reading a header known to have changed. */
  let stale = false
  let open = true
  return {
    read() {
      if (stale) {
        stale = false
        return dataVersion()
      }
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
    committed() {
      version = undefined
      stale = true
    },
    close() {
      if (open) giveBackShmFile(id)
      open = false
    },
  }
}

/** The connection's `-shm` file, or undefined where its header cannot stand in for the pragma. */
function openHeader(client: Database.Database): { fd: number; id: string } | undefined {
  if (client.memory || (process.platform !== 'linux' && process.platform !== 'darwin')) return undefined
  if (String(client.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined
  return takeShmFile(`${client.name}-shm`)
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
