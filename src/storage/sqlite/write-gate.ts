/**
 * One queue of write transactions per database file in this process. better-sqlite3 is synchronous: a
 * connection that waits for SQLite's write lock blocks the event loop, so when another connection of this
 * process holds that lock across an `await` (a driver's `withTransaction`), the waiter could never let it finish
 * and would stall for the whole busy timeout, then fail with 'database is locked'. Writers of one process wait
 * here instead, asynchronously; other processes are still kept apart by SQLite's own lock.
 */
import { realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

/** Runs one holder at a time, in the order they asked. */
export class WriteGate {
  #pending = 0
  #tail: Promise<unknown> = Promise.resolve()

  /** Whether a holder is running or waiting: then a synchronous writer must queue too. */
  get busy(): boolean {
    return this.#pending > 0
  }

  /** Runs `fn` once every holder queued before it has finished. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.#pending++
    const result = this.#tail.then(fn)
    this.#tail = result.then(
      () => this.#pending--,
      () => this.#pending--,
    )
    return result
  }
}

const gates = new Map<string, { gate: WriteGate; users: number }>()

/** The same name for every path of one file (relative, through symlinks, not created yet). */
function fileKey(path: string): string {
  const absolute = resolve(path)
  try {
    return realpathSync(absolute)
  } catch {
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute))
    } catch {
      return absolute
    }
  }
}

/** Takes a share of the gate of the file at `path`; give it back with the returned function. */
export function holdGate(path: string): { gate: WriteGate; release: () => void } {
  const key = fileKey(path)
  let entry = gates.get(key)
  if (!entry) gates.set(key, (entry = { gate: new WriteGate(), users: 0 }))
  entry.users++
  const held = entry
  let released = false
  return {
    gate: held.gate,
    release: () => {
      if (released) return
      released = true
      if (--held.users === 0 && gates.get(key) === held) gates.delete(key)
    },
  }
}
