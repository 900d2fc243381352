import { describe, expect, it } from 'vitest'
import { defineDriver, type KvDriver, memoryDriver, Valkeyrie } from '../../src/index.js'

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
