import { describe, expect, it } from 'vitest'
import { KvU64, Valkeyrie } from '../../src/index.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'
import { runWorker } from '../support/processes.js'

describe('several processes on one file', () => {
  it('lets 4 processes open the same new file at the same moment', async () => {
    const path = tempDbPath()
    const startAt = String(Date.now() + 1500)
    const runs = await Promise.all(Array.from({ length: 4 }, () => runWorker(['open', path, startAt])))
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 })
    const db = await openTestDb(path)
    expect(await Array.fromAsync(db.list({ prefix: ['opened'] }))).toHaveLength(4)
  })

  it('ends 4 processes × 250 atomic increments at exactly 1000', async () => {
    const path = tempDbPath()
    const runs = await Promise.all(Array.from({ length: 4 }, () => runWorker(['increment', path, '250'])))
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 })
    const db = await openTestDb(path)
    expect((await db.get<KvU64>(['counter'])).value?.value).toBe(1000n)
  })

  it('ends 3 processes × 100 check-and-set loops at exactly 300', async () => {
    const path = tempDbPath()
    const runs = await Promise.all(Array.from({ length: 3 }, () => runWorker(['check-and-set', path, '100'])))
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 })
    const db = await openTestDb(path)
    expect((await db.get(['cas'])).value).toBe(300)
  })

  it('does not keep a process alive with the expiry sweep timer', async () => {
    const run = await runWorker(['stay-open', tempDbPath()], 20_000)
    expect(run, run.stderr).toMatchObject({ code: 0 })
    expect(JSON.parse(run.stdout)).toEqual({ leftOpen: true })
  })
})

describe('versionstamps across reopen', () => {
  it('keeps versionstamps strictly increasing across close and reopen', async () => {
    const path = tempDbPath()
    const stamps: string[] = []
    for (let round = 0; round < 3; round++) {
      const db = await Valkeyrie.open(path)
      for (let i = 0; i < 5; i++) stamps.push((await db.set(['r', round, i], i)).versionstamp)
      await db.atomic().check({ key: ['never'], versionstamp: '00000000000000000001' }).set(['x'], 1).commit()
      await db.close()
    }
    expect(stamps).toEqual([...stamps].sort())
    expect(new Set(stamps).size).toBe(15)
    expect(stamps.at(-1)).toBe('0000000000000000000f')
  })
})
