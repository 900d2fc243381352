/**
 * How the PostgreSQL store settles a commit group whose transaction fails, on a scripted pool: the server's
 * answers that a real server gives only under rare timing (serialization failures, a connection lost between
 * COMMIT and its answer) are played here exactly. The same code runs against a real server in every behaviour
 * suite and in test/postgres.
 */
import { describe, expect, it } from 'vitest'
import { CommitUnknownResultError } from '../../../src/errors.js'
import { PG_COMMIT_ATTEMPTS } from '../../../src/limits.js'
import type { PgClient, PgPool, PgQuery, PgResult } from '../../../src/storage/postgres/client.js'
import { createPgKvTables } from '../../../src/storage/postgres/schema.js'
import { statementsFor } from '../../../src/storage/postgres/sql.js'
import { PostgresStorage } from '../../../src/storage/postgres/storage.js'

const serverError = (code: string, severity = 'ERROR') => Object.assign(new Error(`error ${code}`), { code, severity })
const result = (rows: Record<string, unknown>[] = []): PgResult => ({ rows, rowCount: rows.length })

/** A pool whose one connection answers each query with the next scripted answer; records texts and releases. */
function scriptedPool(answers: ((text: string) => PgResult | PgResult[] | Error)[]) {
  const texts: string[] = []
  const releases: (Error | boolean | undefined)[] = []
  const client: PgClient = {
    async query(query: PgQuery | string) {
      const text = typeof query === 'string' ? query : query.text
      texts.push(text)
      const answer = answers.shift()
      if (!answer) throw new Error(`unscripted query: ${text}`)
      const outcome = answer(text)
      if (outcome instanceof Error) throw outcome
      return outcome
    },
    release: (error) => void releases.push(error),
    on: () => client,
    off: () => client,
  }
  const pool: PgPool = { connect: async () => client, query: async () => result(), end: async () => {} }
  return { pool, texts, releases }
}

const begun = () => [result(), result(), result([{ version: '7' }]), result()]
const storageOn = (pool: PgPool) =>
  new PostgresStorage({
    pool,
    statements: statementsFor(createPgKvTables()),
    ownsPool: true,
    durability: 'full',
    busyTimeout: 5000,
    shownPath: 'test',
  })
const key = Buffer.from('k')
/** A group that writes `key` under the next counter. */
const writeKey = (tx: Parameters<Parameters<PostgresStorage['transact']>[1]>[0]) => {
  const version = tx.nextVersion()
  tx.write({ key, value: Buffer.from('v'), encoding: 1, version, expiresAt: null })
  return version
}

describe('PostgreSQL commit settlement', () => {
  it('runs a group again after a serialization failure or a deadlock, and commits it once', async () => {
    const { pool, texts } = scriptedPool([
      () => serverError('40001'),
      () => result(), // ROLLBACK
      () => serverError('40P01'),
      () => result(),
      () => begun(),
      (text) => (text.includes('COMMIT') ? [result(), result(), result()] : new Error('expected the writes')),
    ])
    expect(await storageOn(pool).transact(() => [key], writeKey)).toBe(8)
    expect(texts.filter((t) => t === 'ROLLBACK')).toHaveLength(2)
    // The commit writes, so the statement that writes the counter notifies the other clients' watchers (on COMMIT).
    expect(texts.at(-1)).toMatch(/UPDATE "kv_meta" SET version = 8::int8 WHERE id = 1 RETURNING pg_notify\('valkeyrie_[0-9a-f]+', ''\);\nCOMMIT$/)
  })

  it('runs a one-round-trip group again with reads after a deadlock, and never sends lock_timeout 0', async () => {
    const committed = () => [result(), result(), result()]
    const { pool, texts } = scriptedPool([
      () => begun(),
      () => committed(),
      (text) => (text.includes("ELSE (version::text || ' counter moved')::int8") ? serverError('40P01') : new Error('expected a blind commit')),
      () => result(), // ROLLBACK
      () => begun(),
      () => committed(),
    ])
    const storage = new PostgresStorage({
      pool,
      statements: statementsFor(createPgKvTables()),
      ownsPool: true,
      durability: 'relaxed',
      busyTimeout: 0,
      shownPath: 'test',
    })
    expect(await storage.transact(() => [key], writeKey)).toBe(8)
    expect(await storage.transact(() => [key], writeKey)).toBe(8)
    expect(texts[0]).toContain("set_config('lock_timeout', '1', true)")
    expect(texts[0]).toContain("set_config('synchronous_commit', 'off', true)")
  })

  it(`gives up after ${PG_COMMIT_ATTEMPTS} attempts`, async () => {
    const answers = Array.from({ length: PG_COMMIT_ATTEMPTS }, () => [() => serverError('40001'), () => result()]).flat()
    const { pool } = scriptedPool(answers)
    await expect(storageOn(pool).transact(() => [key], writeKey)).rejects.toMatchObject({ code: '40001' })
  })

  it('reports a refused write as failed (not applied), rolls back and reuses the connection', async () => {
    const { pool, texts, releases } = scriptedPool([() => begun(), () => serverError('23505'), () => result()])
    const error = await storageOn(pool).transact(() => [key], writeKey).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: '23505' })
    expect(error).not.toBeInstanceOf(CommitUnknownResultError)
    expect(texts.at(-1)).toBe('ROLLBACK')
    expect(releases).toEqual([undefined])
  })

  it('reports a connection lost during the second round trip as an unknown outcome, and drops the connection', async () => {
    const lost = new Error('Connection terminated unexpectedly')
    const { pool, releases } = scriptedPool([() => begun(), () => lost])
    const error = await storageOn(pool).transact(() => [key], writeKey).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CommitUnknownResultError)
    expect((error as Error).cause).toBe(lost)
    expect(releases).toEqual([lost])
  })

  it('reports a session the server ended (FATAL) during the second round trip as an unknown outcome', async () => {
    const ended = serverError('57P01', 'FATAL')
    const { pool } = scriptedPool([() => begun(), () => ended])
    await expect(storageOn(pool).transact(() => [key], writeKey)).rejects.toBeInstanceOf(CommitUnknownResultError)
  })

  it('does not retry a lock timeout: the commit fails, not applied', async () => {
    const { pool, texts } = scriptedPool([() => serverError('55P03'), () => result()])
    await expect(storageOn(pool).transact(() => [key], writeKey)).rejects.toMatchObject({ code: '55P03' })
    expect(texts).toHaveLength(2)
  })
})
