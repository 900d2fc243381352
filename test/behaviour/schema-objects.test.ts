/** A file whose schema holds objects Valkeyrie did not create (a planted trigger above all) is refused at open. */
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { OpenError, Valkeyrie } from '../../src/index.js'
import { rejection, tempDbPath } from '../support/open-test-db.js'

const REWRITE = "CREATE TRIGGER rewrite AFTER INSERT ON kv BEGIN UPDATE kv SET value = x'00' WHERE key = new.key; END"

describe('objects Valkeyrie did not create', () => {
  it('refuses a Valkeyrie file with a planted trigger, naming it, instead of letting it rewrite writes', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path)
    await db.set(['a'], 'kept')
    await db.close()
    const raw = new Database(path)
    raw.exec(REWRITE)
    raw.close()
    const error = await rejection(Valkeyrie.open(path))
    expect(error).toBeInstanceOf(OpenError)
    expect(error.message).toMatch(/has objects Valkeyrie did not create: trigger rewrite on kv/)
  })

  it('refuses an application database with a trigger on its kv tables', async () => {
    const client = new Database(tempDbPath())
    try {
      const db = await Valkeyrie.open(undefined, { database: client, migrations: 'apply' })
      await db.close()
      client.exec(REWRITE)
      const error = await rejection(Valkeyrie.open(undefined, { database: client }))
      expect(error).toBeInstanceOf(OpenError)
      expect(error.message).toMatch(/triggers on the Valkeyrie tables, which would rewrite its writes: rewrite on kv/)
    } finally {
      client.close()
    }
  })
})
