import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { jsonSerializer, OpenError, Valkeyrie, ValkeyrieError } from '../../src/index.js'
import { openTestDb, tempDbPath } from '../support/open-test-db.js'

describe('open', () => {
  it('opens an in-memory database with no path or with :memory:', async () => {
    for (const db of [await openTestDb(), await openTestDb(':memory:')]) {
      await db.set(['a'], 1)
      expect((await db.get(['a'])).value).toBe(1)
    }
  })

  it('keeps data in a file across close and reopen', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path)
    await db.set(['users', 'ada'], { name: 'Ada', born: new Date('1815-12-10') })
    await db.close()
    const again = await openTestDb(path)
    expect((await again.get(['users', 'ada'])).value).toEqual({ name: 'Ada', born: new Date('1815-12-10') })
  })

  it('rejects a file written with another serializer with an OpenError naming both', async () => {
    const path = tempDbPath()
    await (await Valkeyrie.open(path)).close()
    const attempt = Valkeyrie.open(path, { serializer: jsonSerializer })
    await expect(attempt).rejects.toBeInstanceOf(OpenError)
    await expect(attempt).rejects.toBeInstanceOf(ValkeyrieError)
    await expect(attempt).rejects.toThrow(/v8 serializer, but was opened with the json serializer/)
  })

  it('refuses an object that is not plain options as the first argument, instead of opening it in memory', async () => {
    const path = tempDbPath()
    for (const notAPath of [new URL(`file://${path}`), new Date(), ['x.db']]) {
      await expect(Valkeyrie.open(notAPath as never)).rejects.toThrow(
        /^path must be a non-empty string or an options object: received a (URL|Date)|an array/,
      )
    }
    expect(existsSync(path)).toBe(false)
    const db = await Valkeyrie.open(Object.assign(Object.create(null), { sweepInterval: 0 }))
    await db.close()
  })

  it('refuses a path together with a database of your own', async () => {
    const path = tempDbPath()
    const client = new Database(':memory:')
    await expect(Valkeyrie.open(path, { database: client, migrations: 'apply' })).rejects.toThrow(
      /^pass either a path or a database, not both/,
    )
    expect(existsSync(path)).toBe(false)
    client.close()
  })

  it('rejects a path in a missing folder', async () => {
    await expect(Valkeyrie.open('/definitely/not/here/x.db')).rejects.toThrow(/the folder \/definitely\/not\/here does not exist/)
  })
})
