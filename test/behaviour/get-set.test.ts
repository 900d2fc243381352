import { describe, expect, it } from 'vitest'
import { KvU64, Valkeyrie } from '../../src/index.js'
import { describeBackends } from '../support/backends.js'

describeBackends('get, set, delete', (backend) => {
  it('returns the first versionstamp of a new database as 00000000000000000001', async () => {
    const db = await backend.open()
    expect(await db.set(['key'], 'value')).toEqual({ ok: true, versionstamp: '00000000000000000001' })
  })

  it('reads back what was written with its versionstamp', async () => {
    const db = await backend.open()
    const { versionstamp } = await db.set(['users', 'user1'], { name: 'John Doe', age: 30 })
    expect(await db.get(['users', 'user1'])).toEqual({
      key: ['users', 'user1'],
      value: { name: 'John Doe', age: 30 },
      versionstamp,
    })
  })

  it('returns null value and versionstamp for a missing key', async () => {
    const db = await backend.open()
    expect(await db.get(['unknown'])).toEqual({ key: ['unknown'], value: null, versionstamp: null })
  })

  it('gives each write a strictly greater versionstamp', async () => {
    const db = await backend.open()
    const stamps: string[] = []
    for (let i = 0; i < 20; i++) stamps.push((await db.set(['k', i], i)).versionstamp)
    expect([...stamps].sort()).toEqual(stamps)
    expect(new Set(stamps).size).toBe(20)
  })

  it('overwrites a value and deletes it', async () => {
    const db = await backend.open()
    await db.set(['a'], 1)
    await db.set(['a'], 2)
    expect((await db.get(['a'])).value).toBe(2)
    expect(await db.delete(['a'])).toBeUndefined()
    expect((await db.get(['a'])).value).toBeNull()
    await expect(db.delete(['never-existed'])).resolves.toBeUndefined()
  })

  it('returns a fresh copy of the value on every read', async () => {
    const db = await backend.open()
    const value = { list: [1, 2] }
    await db.set(['v'], value)
    value.list.push(3)
    const first = await db.get<{ list: number[] }>(['v'])
    first.value?.list.push(4)
    expect((await db.get(['v'])).value).toEqual({ list: [1, 2] })
  })

  it('stores every key part type and keeps them distinct', async () => {
    const db = await backend.open()
    const keys = [['p', 'x'], ['p', 1], ['p', 1n], ['p', true], ['p', false], ['p', new Uint8Array([1])], ['p', -0], ['p', 0]]
    for (const [i, key] of keys.entries()) await db.set(key, i)
    for (const [i, key] of keys.entries()) expect((await db.get(key)).value).toBe(i)
  })

  it('reads many keys in request order with getMany', async () => {
    const db = await backend.open()
    await db.set(['users', 'user1'], 'u1')
    await db.set(['settings', 'theme'], 'dark')
    const entries = await db.getMany([['users', 'user1'], ['users', 'user2'], ['settings', 'theme']])
    expect(entries.map((e) => e.value)).toEqual(['u1', null, 'dark'])
    expect(entries.map((e) => e.key)).toEqual([['users', 'user1'], ['users', 'user2'], ['settings', 'theme']])
  })

  it('rejects getMany with more than 10 keys', async () => {
    const db = await backend.open()
    const keys = Array.from({ length: 11 }, (_, i) => ['k', i])
    await expect(db.getMany(keys)).rejects.toThrow(RangeError)
    await expect(db.getMany(keys.slice(0, 10))).resolves.toHaveLength(10)
  })

  it('stores KvU64 values and reads them back as KvU64', async () => {
    const db = await backend.open()
    await db.set(['counters', 'visitors'], new KvU64(1000n))
    const entry = await db.get<KvU64>(['counters', 'visitors'])
    expect(entry.value).toBeInstanceOf(KvU64)
    expect(entry.value?.value).toBe(1000n)
  })

  it('rejects a KvU64 nested in a value', async () => {
    const db = await backend.open()
    await expect(db.set(['stats'], { visitors: new KvU64(1000n) })).rejects.toThrow(TypeError)
    await expect(db.set(['stats'], [new KvU64(1n)])).rejects.toThrow(/top-level/)
    expect((await db.get(['stats'])).value).toBeNull()
  })
})

describeBackends('bad input', (backend) => {
  it('rejects keys that are not non-empty arrays of key parts with a TypeError naming the part', async () => {
    const db = await backend.open()
    for (const key of [[], 'a', null, undefined, {}, [null], [undefined], [{}], [new Date()], [new ArrayBuffer(1)], [['nested']], [Symbol('s')]]) {
      await expect(db.set(key as never, 1)).rejects.toThrow(TypeError)
      await expect(db.get(key as never)).rejects.toThrow(TypeError)
    }
    await expect(db.get(['ok', null] as never)).rejects.toThrow(/key part 1 .*received null/)
  })

  it('rejects a key over 2048 encoded bytes with a RangeError saying what it received', async () => {
    const db = await backend.open()
    const key = ['x'.repeat(2046)] // 1 tag + 2046 + terminator = 2048 bytes
    await expect(db.set(key, 1)).resolves.toMatchObject({ ok: true })
    await expect(db.set(['x'.repeat(2048)], 1)).rejects.toThrow('Key too large for write (max 2048 bytes): received 2050')
    await expect(db.get(['x'.repeat(2048)])).rejects.toThrow('Key too large for read (max 2048 bytes): received 2050')
  })

  it('rejects a value over 65536 serialized bytes with a RangeError', async () => {
    const db = await backend.open()
    await expect(db.set(['big'], new Uint8Array(70_000))).rejects.toThrow(/Value too large \(max 65536 bytes\)/)
    await expect(db.set(['big'], new Uint8Array(60_000))).resolves.toMatchObject({ ok: true })
  })

  it('rejects values the serializer cannot store with a TypeError', async () => {
    const db = await backend.open()
    await expect(db.set(['f'], () => 1)).rejects.toThrow(TypeError)
    await expect(db.set(['s'], Symbol('x'))).rejects.toThrow(TypeError)
    await expect(db.set(['w'], new WeakMap())).rejects.toThrow(TypeError)
  })

  it('rejects bad expireIn values', async () => {
    const db = await backend.open()
    await expect(db.set(['e'], 1, { expireIn: -5 })).rejects.toThrow('expireIn must be between 0')
    await expect(db.set(['e'], 1, { expireIn: 1.5 })).rejects.toThrow(TypeError)
    await expect(db.set(['e'], 1, { expireIn: '10' as never })).rejects.toThrow(TypeError)
  })
})

describe('bad open arguments', () => {
  it('refuses new Valkeyrie()', () => {
    expect(() => new (Valkeyrie as unknown as new () => unknown)()).toThrow(TypeError)
  })

  it('rejects bad open arguments', async () => {
    await expect(Valkeyrie.open(42 as never)).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open(undefined, { durability: 'sometimes' as never })).rejects.toThrow(TypeError)
    await expect(Valkeyrie.open(undefined, { serialiser: {} } as never)).rejects.toThrow(/unknown option "serialiser"/)
    await expect(Valkeyrie.open(undefined, { busyTimeout: -1 })).rejects.toThrow(RangeError)
  })
})

describeBackends('close', (backend) => {
  it('rejects every call after close with a clear error and closes twice harmlessly', async () => {
    const db = await backend.create().openOwn()
    await db.close()
    await db.close()
    await expect(db.get(['a'])).rejects.toThrow('database is closed')
    await expect(db.set(['a'], 1)).rejects.toThrow('database is closed')
    await expect(db.getMany([['a']])).rejects.toThrow('database is closed')
    await expect(db.delete(['a'])).rejects.toThrow('database is closed')
    await expect(db.atomic().set(['a'], 1).commit()).rejects.toThrow('database is closed')
    await expect(db.cleanup()).rejects.toThrow('database is closed')
    await expect(db.list({ prefix: [] }).next()).rejects.toThrow('database is closed')
  })

  it('commits writes that were queued before close', async () => {
    const db = await backend.create().openOwn()
    const pending = db.set(['a'], 1)
    await db.close()
    await expect(pending).resolves.toMatchObject({ ok: true })
  })

  it('closes with await using', async () => {
    let captured: Valkeyrie | undefined
    {
      await using db = await backend.create().openOwn()
      captured = db
      await db.set(['a'], 1)
    }
    await expect(captured.get(['a'])).rejects.toThrow('database is closed')
  })
})
