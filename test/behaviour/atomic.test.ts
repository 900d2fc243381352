import { expect, it } from 'vitest'
import { KvU64, type Valkeyrie } from '../../src/index.js'
import { describeBackends } from '../support/backends.js'

const u64 = async (db: Valkeyrie, key: unknown[]) =>
  ((await db.get<KvU64>(key as never)).value as KvU64 | null)?.value

describeBackends('atomic', (backend) => {
  it('applies several mutations under one versionstamp', async () => {
    const db = await backend.open()
    await db.set(['users', 'user3'], 'old')
    const result = await db.atomic()
      .set(['users', 'user1'], { name: 'John' })
      .set(['users', 'user2'], { name: 'Jane' })
      .delete(['users', 'user3'])
      .commit()
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const [a, b, c] = await db.getMany([['users', 'user1'], ['users', 'user2'], ['users', 'user3']])
    expect(a?.versionstamp).toBe(result.versionstamp)
    expect(b?.versionstamp).toBe(result.versionstamp)
    expect(c?.value).toBeNull()
  })

  it('fails a check on a changed versionstamp and applies nothing', async () => {
    const db = await backend.open()
    const first = await db.set(['counter'], 1)
    await db.set(['counter'], 2)
    const result = await db.atomic()
      .check({ key: ['counter'], versionstamp: first.versionstamp })
      .set(['counter'], 3)
      .set(['other'], 'x')
      .commit()
    expect(result).toEqual({ ok: false })
    expect((await db.get(['counter'])).value).toBe(2)
    expect((await db.get(['other'])).value).toBeNull()
  })

  it('treats a null versionstamp check as "must not exist"', async () => {
    const db = await backend.open()
    expect((await db.atomic().check({ key: ['k'], versionstamp: null }).set(['k'], 1).commit()).ok).toBe(true)
    expect((await db.atomic().check({ key: ['k'], versionstamp: null }).set(['k'], 2).commit()).ok).toBe(false)
    expect((await db.get(['k'])).value).toBe(1)
  })

  it('passes a check with the current versionstamp (the documented check-and-set)', async () => {
    const db = await backend.open()
    await db.set(['counter'], 0)
    const entry = await db.get<number>(['counter'])
    const result = await db.atomic()
      .check({ key: ['counter'], versionstamp: entry.versionstamp })
      .set(['counter'], (entry.value ?? 0) + 1)
      .commit()
    expect(result.ok).toBe(true)
    expect((await db.get(['counter'])).value).toBe(1)
  })

  it('consumes no versionstamp for a failed check', async () => {
    const db = await backend.open()
    const a = await db.set(['a'], 1)
    await db.atomic().check({ key: ['a'], versionstamp: null }).set(['a'], 2).commit()
    const b = await db.set(['b'], 1)
    expect(BigInt('0x' + b.versionstamp) - BigInt('0x' + a.versionstamp)).toBe(1n)
  })

  it('sums, mins and maxes KvU64 values as documented', async () => {
    const db = await backend.open()
    await db.set(['counter'], new KvU64(0n))
    await db.atomic().sum(['counter'], new KvU64(1n)).commit()
    expect(await u64(db, ['counter'])).toBe(1n)
    await db.atomic().max(['counter'], new KvU64(100n)).commit()
    expect(await u64(db, ['counter'])).toBe(100n)
    await db.atomic().min(['counter'], new KvU64(50n)).commit()
    expect(await u64(db, ['counter'])).toBe(50n)
    await db.atomic().sum(['counter'], 5n).commit()
    expect(await u64(db, ['counter'])).toBe(55n)
  })

  it('gives a missing key the operand for sum, min and max', async () => {
    const db = await backend.open()
    await db.atomic().sum(['s'], 7n).min(['mi'], 8n).max(['ma'], new KvU64(9n)).commit()
    expect([await u64(db, ['s']), await u64(db, ['mi']), await u64(db, ['ma'])]).toEqual([7n, 8n, 9n])
  })

  it('wraps sum modulo 2^64 and decrements with a negative bigint', async () => {
    const db = await backend.open()
    await db.set(['c'], new KvU64(2n ** 64n - 1n))
    await db.atomic().sum(['c'], 2n).commit()
    expect(await u64(db, ['c'])).toBe(1n)
    await db.atomic().sum(['c'], -1n).commit()
    expect(await u64(db, ['c'])).toBe(0n)
    await db.atomic().sum(['c'], -1n).commit()
    expect(await u64(db, ['c'])).toBe(2n ** 64n - 1n)
  })

  it('keeps new KvU64(-1n) a RangeError', () => {
    expect(() => new KvU64(-1n)).toThrow(RangeError)
  })

  it('rejects sum on a value that is not a KvU64 and applies nothing of the commit', async () => {
    const db = await backend.open()
    await db.set(['n'], 5)
    await expect(db.atomic().set(['side'], 1).sum(['n'], 1n).commit()).rejects.toThrow(TypeError)
    expect((await db.get(['side'])).value).toBeNull()
    expect((await db.get(['n'])).value).toBe(5)
    await expect(db.atomic().max(['n'], 1n).commit()).rejects.toThrow(/not a KvU64/)
  })

  it('rejects bad operands', async () => {
    const db = await backend.open()
    await expect(db.atomic().sum(['a'], 1 as never).commit()).rejects.toThrow(TypeError)
    await expect(db.atomic().min(['a'], -1n).commit()).rejects.toThrow(RangeError)
    await expect(db.atomic().sum(['a'], 2n ** 64n).commit()).rejects.toThrow(RangeError)
  })

  it('lets later mutations see earlier ones of the same commit', async () => {
    const db = await backend.open()
    await db.atomic().set(['c'], new KvU64(10n)).sum(['c'], 5n).commit()
    expect(await u64(db, ['c'])).toBe(15n)
    await db.atomic().delete(['c']).sum(['c'], 1n).commit()
    expect(await u64(db, ['c'])).toBe(1n)
    await db.atomic().sum(['c'], 1n).set(['c'], 'text').commit()
    expect((await db.get(['c'])).value).toBe('text')
  })

  it('supports mutate() and executeAtomicOperation() with the same validation as commit()', async () => {
    const db = await backend.open()
    const result = await db.atomic()
      .mutate({ type: 'set', key: ['m', 1], value: 'one' }, { type: 'sum', key: ['m', 'n'], value: new KvU64(2n) })
      .commit()
    expect(result.ok).toBe(true)
    const direct = await db.executeAtomicOperation(
      [{ key: ['m', 1], versionstamp: result.ok ? result.versionstamp : null }],
      [{ type: 'delete', key: ['m', 1] }, { type: 'max', key: ['m', 'n'], value: new KvU64(9n) }],
    )
    expect(direct.ok).toBe(true)
    expect((await db.get(['m', 1])).value).toBeNull()
    expect(await u64(db, ['m', 'n'])).toBe(9n)
    await expect(db.executeAtomicOperation([], [{ type: 'explode', key: ['x'] } as never])).rejects.toThrow(TypeError)
    await expect(db.executeAtomicOperation([{ key: ['x'], versionstamp: 'nope' }], [])).rejects.toThrow(TypeError)
    await expect(db.executeAtomicOperation('x' as never, [])).rejects.toThrow(TypeError)
  })

  it('enforces the per-commit limits with RangeErrors', async () => {
    const db = await backend.open()
    const checks = Array.from({ length: 101 }, (_, i) => ({ key: ['c', i], versionstamp: null }))
    await expect(db.atomic().check(...checks).commit()).rejects.toThrow(/Too many checks \(max 100\): received 101/)
    const op = db.atomic()
    for (let i = 0; i < 1001; i++) op.set(['m', i], i)
    await expect(op.commit()).rejects.toThrow(/Too many mutations \(max 1000\): received 1001/)
    const bigKeys = db.atomic()
    for (let i = 0; i < 41; i++) bigKeys.set(['k'.repeat(2000), i], 1)
    await expect(bigKeys.commit()).rejects.toThrow(/Total key size too large \(max 81920 bytes\)/)
    const bigValues = db.atomic()
    for (let i = 0; i < 13; i++) bigValues.set(['v', i], new Uint8Array(65_000))
    await expect(bigValues.commit()).rejects.toThrow(/Total mutation size too large \(max 819200 bytes\)/)
    expect(await Array.fromAsync(db.list({ prefix: [] }))).toEqual([])
  })

  it('accepts exactly the limits', async () => {
    const db = await backend.open()
    const op = db.atomic()
    for (let i = 0; i < 100; i++) op.check({ key: ['c', i], versionstamp: null })
    for (let i = 0; i < 1000; i++) op.set(['m', i], i)
    expect((await op.commit()).ok).toBe(true)
  })

  it('sets expiry inside an atomic operation', async () => {
    let now = 1_000_000
    const db = await backend.open({ clock: () => now })
    await db.atomic().set(['session', 'token456'], 'def456', { expireIn: 60 * 1000 }).commit()
    expect((await db.get(['session', 'token456'])).value).toBe('def456')
    now += 60 * 1000
    expect((await db.get(['session', 'token456'])).value).toBeNull()
  })
})

describeBackends('concurrent commits on one instance', (backend) => {
  it('never loses an update: 100 overlapping sums end at exactly 100', async () => {
    const db = await backend.open()
    const results = await Promise.all(Array.from({ length: 100 }, () => db.atomic().sum(['hits'], 1n).commit()))
    expect(results.every((r) => r.ok)).toBe(true)
    expect(await u64(db, ['hits'])).toBe(100n)
    expect(new Set(results.map((r) => (r.ok ? r.versionstamp : ''))).size).toBe(100)
  })

  it('gives overlapping check-and-sets the results of running them one by one', async () => {
    const db = await backend.open()
    const { versionstamp } = await db.set(['slot'], 'free')
    // All ten read the same versionstamp; exactly one may win.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => db.atomic().check({ key: ['slot'], versionstamp }).set(['slot'], `taken by ${i}`).commit()),
    )
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    const winner = results.findIndex((r) => r.ok)
    expect((await db.get(['slot'])).value).toBe(`taken by ${winner}`)
  })

  it('keeps a failing commit in a group from affecting the others', async () => {
    const db = await backend.open()
    await db.set(['text'], 'not a number')
    const [good1, bad, good2] = await Promise.allSettled([
      db.atomic().sum(['n'], 1n).commit(),
      db.atomic().set(['bad-side'], 1).sum(['text'], 1n).commit(),
      db.atomic().sum(['n'], 1n).commit(),
    ])
    expect(good1.status).toBe('fulfilled')
    expect(bad.status).toBe('rejected')
    expect(good2.status).toBe('fulfilled')
    expect(await u64(db, ['n'])).toBe(2n)
    expect((await db.get(['bad-side'])).value).toBeNull()
  })
})
