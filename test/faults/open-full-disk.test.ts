/**
 * Opening a new file on a full disk: a real tmpfs too small for a new database, mounted in a private mount
 * namespace (`unshare -rm`: no root needed where user namespaces are allowed, nothing left mounted afterwards).
 * The open fails with an OpenError and leaves no file behind, not even an empty one.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../support/open-test-db.js'

const WORKER = fileURLToPath(new URL('../support/worker.ts', import.meta.url))

/** Runs the worker's `open-full` in a new mount namespace where `folder` is a tmpfs of `size`. */
function openOnTinyDisk(folder: string, size: string): { error?: string; left: string[] } {
  const script = `mount -t tmpfs -o size=${size} tmpfs "$1" && exec "$2" --import tsx "$3" open-full "$1/new.db"`
  const run = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', folder, process.execPath, WORKER], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (run.status !== 0) throw new Error(`worker failed (${run.status}): ${run.stderr}`)
  return JSON.parse(run.stdout)
}

describe('opening a new file on a full disk', () => {
  it('fails with an OpenError and leaves no file (nor -wal, -shm, -journal) behind', () => {
    execFileSync('unshare', ['-rm', 'true']) // the test needs mount namespaces: fail loudly, never skip
    const { error, left } = openOnTinyDisk(tempDir(), '12k')
    expect(error).toMatch(/^OpenError: cannot open .*new\.db: /)
    expect(left).toEqual([])
  })

  it('opens the same new file normally when the disk has room', () => {
    const { error, left } = openOnTinyDisk(tempDir(), '4m')
    expect(error).toBeUndefined()
    expect(left).toEqual(['new.db'])
  })
})
