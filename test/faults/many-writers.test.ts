/**
 * Many writers: N processes each run M atomic increments and M optimistic check-and-set loops on one file. The
 * results are exact, and no SQLITE_BUSY (or any other error) reaches a caller within the busy timeout.
 */
import { describe, expect, it } from 'vitest'
import { type KvU64, Valkeyrie } from '../../src/index.js'
import { startWorker } from '../support/processes.js'
import { tempDbPath } from '../support/open-test-db.js'

const PROCESSES = 6
const EACH = 150

describe('many writers', () => {
  it(`ends ${PROCESSES} processes × ${EACH} increments and check-and-sets exact`, async () => {
    const path = tempDbPath('writers.db')
    const workers = Array.from({ length: PROCESSES }, () => startWorker(['mixed-writer', path, String(EACH)]))
    const exits = await Promise.all(workers.map((w) => w.exited))
    for (const [i, exit] of exits.entries()) expect(exit.code, workers[i]?.stderr()).toBe(0)
    const retries = workers.reduce((sum, w) => sum + ((w.lines[0] as { retries: number }).retries ?? 0), 0)
    const db = await Valkeyrie.open(path)
    expect((await db.get<KvU64>(['counter'])).value?.value).toBe(BigInt(PROCESSES * EACH))
    expect((await db.get(['cas'])).value).toBe(PROCESSES * EACH)
    await db.close()
    console.log(`many writers: ${PROCESSES} processes × ${EACH} increments + ${EACH} check-and-sets, ${retries} check retries`)
  })
})
