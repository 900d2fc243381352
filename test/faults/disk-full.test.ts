/**
 * A full disk, simulated with SQLite's max_page_count on a connection handed to Valkeyrie: a write that does not
 * fit rejects with a StorageError, applies nothing, leaves the database readable, and writes work again once
 * space returns.
 */
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { KvU64, StorageError, Valkeyrie } from '../../src/index.js'
import { rejection, tempDbPath } from '../support/open-test-db.js'

describe('disk full', () => {
  it('rejects the write that does not fit, applies nothing of it, and recovers when space returns', async () => {
    const path = tempDbPath('full.db')
    const client = new Database(path)
    client.pragma('journal_mode = WAL')
    const db = await Valkeyrie.open(undefined, { database: client, migrations: 'apply' })
    await db.set(['counter'], new KvU64(0n))
    const pages = Number(client.pragma('page_count', { simple: true }))
    client.pragma(`max_page_count = ${pages + 20}`)

    // Fill until a commit fails: each commit writes 10 values of 2 KB and bumps the counter.
    let committed = 0
    let failure: Error | undefined
    for (let round = 0; round < 1000 && !failure; round++) {
      const op = db.atomic().sum(['counter'], 1n)
      for (let i = 0; i < 10; i++) op.set(['blob', round, i], new Uint8Array(2048).fill(round % 256))
      try {
        await op.commit()
        committed++
      } catch (error) {
        failure = error as Error
      }
    }
    expect(failure).toBeInstanceOf(StorageError)
    expect((failure?.cause as { code?: string }).code).toBe('SQLITE_FULL')
    expect(committed).toBeGreaterThan(0)

    // Nothing half-applied: the counter matches the commits, every committed round is whole, the failed one absent.
    expect((await db.get<KvU64>(['counter'])).value?.value).toBe(BigInt(committed))
    const blobs = await Array.fromAsync(db.list({ prefix: ['blob'] }))
    expect(blobs).toHaveLength(committed * 10)
    expect((await db.get(['blob', committed, 0])).value).toBeNull()
    expect(client.pragma('integrity_check', { simple: true })).toBe('ok')

    // A failure mid-group fails the whole group and nothing of it; other readers are unaffected.
    const group = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => db.set(['group', i], new Uint8Array(8000))),
    )
    expect(group.every((r) => r.status === 'rejected')).toBe(true)
    expect(await Array.fromAsync(db.list({ prefix: ['group'] }))).toHaveLength(0)

    // Space returns: writes work again.
    client.pragma('max_page_count = 1000000')
    await expect(db.atomic().sum(['counter'], 1n).set(['after'], 'ok').commit()).resolves.toMatchObject({ ok: true })
    expect((await db.get<KvU64>(['counter'])).value?.value).toBe(BigInt(committed + 1))
    await db.close()
    client.close()

    const reopened = await Valkeyrie.open(path)
    expect((await reopened.get(['after'])).value).toBe('ok')
    await reopened.close()
  })

  it('reports a read on a closed connection as a StorageError, not a crash', async () => {
    const client = new Database(':memory:')
    const db = await Valkeyrie.open(undefined, { database: client, migrations: 'apply' })
    client.close()
    const error = await rejection(db.get(['x']))
    expect(error).toBeInstanceOf(StorageError)
  })
})
