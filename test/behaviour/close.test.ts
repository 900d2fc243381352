import { describe, expect, it } from 'vitest'
import { defineDriver, type KvDriver, memoryDriver, Valkeyrie } from '../../src/index.js'
import { describeBackends } from '../support/backends.js'

describe('close', () => {
  it('resolves every concurrent close() only once the close has finished', async () => {
    let released = false
    const slowClose = defineDriver(async () => {
      const driver = (await memoryDriver(undefined)) as KvDriver
      return Object.assign(driver, {
        close: async () => {
          await new Promise((resolve) => setTimeout(resolve, 50))
          released = true
        },
      })
    })
    const db = await Valkeyrie.open(undefined, slowClose)
    const write = db.set(['a'], 1)
    const first = db.close()
    await db.close()
    expect(released).toBe(true)
    await expect(write).resolves.toMatchObject({ ok: true })
    await first
    await db.close()
  })
})

describeBackends('close', (backend) => {
  it('resolves every concurrent close() after the writes queued before it, then refuses calls', async () => {
    const place = backend.create()
    const db = await place.openOwn()
    const writes = Array.from({ length: 20 }, (_, i) => db.set(['w', i], i))
    await Promise.all([db.close(), db.close(), db.close()])
    const results = await Promise.all(writes)
    expect(results.every((r) => r.ok)).toBe(true)
    await expect(db.get(['w', 0])).rejects.toThrow('database is closed')
    await db.close()
    if (!backend.persistent) return
    const again = await place.open()
    expect((await Array.fromAsync(again.list<number>({ prefix: ['w'] }))).map((e) => e.value)).toEqual(results.map((_, i) => i))
  })
})
