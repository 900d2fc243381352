/**
 * Expiry under load, with an injected clock: while writers set keys with random expiries and the clock jumps
 * forward, no read ever returns an entry at or past its expiry, and nothing is deleted before its time (by reads,
 * the background sweep, or cleanup()).
 */
import { describe, expect, it } from 'vitest'
import { Valkeyrie } from '../../src/index.js'
import { tempDbPath } from '../support/open-test-db.js'

const WRITES = 4000

describe('expiry under load', () => {
  it('never returns an expired entry and never deletes a live one', async () => {
    let now = 1_800_000_000_000
    const db = await Valkeyrie.open(tempDbPath('expiry.db'), { clock: () => now, sweepInterval: 5 })
    /** key id -> expiry time of its latest write (null: never). */
    const expected = new Map<number, number | null>()
    let violations = 0
    let reads = 0
    const check = (id: number, value: unknown, at: number): void => {
      const expiresAt = expected.get(id)
      const live = expiresAt === null || (expiresAt !== undefined && expiresAt > at)
      // An entry is returned exactly when it is live (its latest write is acknowledged before we read).
      if ((value !== null) !== live) violations++
      reads++
    }
    for (let i = 0; i < WRITES; i++) {
      const id = Math.floor(Math.random() * 300)
      const expireIn = Math.random() < 0.2 ? undefined : Math.floor(Math.random() * 50)
      await db.set(['e', id], { id, i }, expireIn === undefined ? {} : { expireIn })
      expected.set(id, expireIn === undefined ? null : now + expireIn)
      if (i % 7 === 0) now += Math.floor(Math.random() * 20)
      if (i % 5 === 0) {
        const probe = Math.floor(Math.random() * 300)
        check(probe, (await db.get(['e', probe])).value, now)
      }
      if (i % 97 === 0) {
        const at = now
        const listed = new Map((await Array.fromAsync(db.list<{ id: number }>({ prefix: ['e'] }))).map((e) => [e.value.id, e.value]))
        for (const id of expected.keys()) check(id, listed.get(id) ?? null, at)
      }
      if (i % 500 === 0) await db.cleanup()
    }
    await db.close()
    console.log(`expiry under load: ${WRITES} writes, ${reads} reads checked, ${violations} violations`)
    expect(violations).toBe(0)
  })
})
