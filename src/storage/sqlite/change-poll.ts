/**
 * Commits of other connections to a SQLite file, seen by polling `PRAGMA data_version` (a few microseconds: it
 * reads a counter in shared memory, and moves when another connection commits) on an adaptive interval: every
 * WATCH_POLL_MIN_MS while changes arrive, growing by WATCH_POLL_BACKOFF after each quiet look up to
 * WATCH_POLL_MAX_MS. It runs only while someone listens; its timer never keeps the process alive by itself.
 */
import { WATCH_POLL_BACKOFF, WATCH_POLL_MAX_MS, WATCH_POLL_MIN_MS } from '../../limits.js'

/** Calls `onChange` after each look where `dataVersion()` moved; returns the function that stops polling. */
export function pollDataVersion(dataVersion: () => number, onChange: () => void): () => void {
  let last: number | undefined
  try {
    last = dataVersion()
  } catch {
    // A closed or failing connection: looked at again on the next tick.
  }
  let interval = WATCH_POLL_MIN_MS
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const look = (): void => {
    if (stopped) return
    let version: number | undefined
    try {
      version = dataVersion()
    } catch {
      version = undefined
    }
    if (version !== undefined && version !== last) {
      last = version
      interval = WATCH_POLL_MIN_MS
      onChange()
    } else {
      interval = Math.min(interval * WATCH_POLL_BACKOFF, WATCH_POLL_MAX_MS)
    }
    if (!stopped) timer = setTimeout(look, interval).unref()
  }
  timer = setTimeout(look, interval).unref()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
