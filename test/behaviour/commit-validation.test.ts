/**
 * Raw mutations and checks (`mutate`, `check`, `executeAtomicOperation`) are validated strictly, set options are
 * checked by name, and commit errors speak the caller's words: the key for a plain set or delete, the mutation
 * index and key for an atomic commit.
 */
import { expect, it } from 'vitest'
import { KvU64 } from '../../src/index.js'
import { rejection } from '../support/open-test-db.js'
import { describeBackends } from '../support/backends.js'

describeBackends('raw mutations', (backend) => {
  it('refuses a set without a value property, and stores an explicit undefined', async () => {
    const db = await backend.open()
    const error = await rejection(db.atomic().mutate({ key: ['a'], type: 'set' } as never).commit())
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('mutation 0 (set ["a"]): a set mutation needs a value property')
    expect((await db.get(['a'])).versionstamp).toBeNull()
    const ok = await db.atomic().mutate({ key: ['a'], type: 'set', value: undefined }).commit()
    expect(ok.ok).toBe(true)
    const entry = await db.get(['a'])
    expect(entry.versionstamp).not.toBeNull()
    expect(entry.value).toBeUndefined()
  })

  it('refuses a delete with a value and deletes nothing', async () => {
    const db = await backend.open()
    await db.set(['a'], 1)
    const error = await rejection(db.atomic().mutate({ key: ['a'], type: 'delete', value: 5 } as never).commit())
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('mutation 0 (delete ["a"]): a delete mutation takes no value: received 5')
    expect((await db.get(['a'])).value).toBe(1)
  })

  it('refuses sum, min and max without a value, and expireIn on anything but set', async () => {
    const db = await backend.open()
    for (const type of ['sum', 'min', 'max'] as const) {
      const missing = await rejection(db.atomic().mutate({ key: ['n'], type } as never).commit())
      expect(missing).toBeInstanceOf(TypeError)
      expect(missing.message).toBe(`mutation 0 (${type} ["n"]): a ${type} mutation needs a value property`)
      const expiring = await rejection(db.atomic().mutate({ key: ['n'], type, value: 1n, expireIn: 10 } as never).commit())
      expect(expiring).toBeInstanceOf(TypeError)
      expect(expiring.message).toBe(`mutation 0 (${type} ["n"]): expireIn applies to set mutations only: received 10`)
    }
    const deleting = await rejection(db.atomic().mutate({ key: ['n'], type: 'delete', expireIn: 10 } as never).commit())
    expect(deleting.message).toBe('mutation 0 (delete ["n"]): expireIn applies to set mutations only: received 10')
    expect((await db.get(['n'])).versionstamp).toBeNull()
  })

  it('refuses unknown mutation properties, naming them', async () => {
    const db = await backend.open()
    const error = await rejection(
      db.atomic().set(['ok'], 1).mutate({ key: ['a'], type: 'set', value: 1, expiresIn: 10 } as never).commit(),
    )
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('mutation 1 (set ["a"]): unknown mutation property "expiresIn"')
    expect((await db.get(['ok'])).versionstamp).toBeNull()
  })

  it('validates executeAtomicOperation the same way', async () => {
    const db = await backend.open()
    await expect(db.executeAtomicOperation([], [{ key: ['a'], type: 'set' } as never])).rejects.toThrow(TypeError)
    await expect(db.executeAtomicOperation([], [{ key: ['a'], type: 'delete', value: 1 } as never])).rejects.toThrow(
      'a delete mutation takes no value',
    )
    await expect(db.executeAtomicOperation([{ key: ['a'] } as never], [])).rejects.toThrow(
      'check 0 (["a"]): a check needs a versionstamp property',
    )
    expect((await db.get(['a'])).versionstamp).toBeNull()
  })

  it('refuses a check without a versionstamp property', async () => {
    const db = await backend.open()
    const missing = await rejection(db.atomic().check({ key: ['a'] } as never).commit())
    expect(missing).toBeInstanceOf(TypeError)
    expect(missing.message).toBe('check 0 (["a"]): a check needs a versionstamp property (null: the key must not exist)')
  })

  it('takes the entry get returned as a check, as Deno code writes it', async () => {
    const db = await backend.open()
    await db.set(['a'], 1)
    const entry = await db.get(['a'])
    expect((await db.atomic().check(entry).set(['a'], 2).commit()).ok).toBe(true)
    expect((await db.atomic().check(entry).set(['a'], 3).commit()).ok).toBe(false)
    const absent = await db.get(['b'])
    expect((await db.atomic().check(absent).set(['b'], 1).commit()).ok).toBe(true)
    expect((await db.get(['a'])).value).toBe(2)
  })
})

describeBackends('set options', (backend) => {
  it('refuses unknown options of db.set, naming them', async () => {
    const db = await backend.open()
    const error = await rejection(db.set(['a'], 1, { expiresIn: 1000 } as never))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('unknown set option "expiresIn"')
    expect((await db.get(['a'])).versionstamp).toBeNull()
    expect((await db.set(['a'], 1, {})).ok).toBe(true)
    expect((await db.set(['a'], 1, { expireIn: undefined } as never)).ok).toBe(true)
  })

  it('refuses unknown options of atomic().set at once, naming them', async () => {
    const db = await backend.open()
    expect(() => db.atomic().set(['a'], 1, { expiresIn: 1000 } as never)).toThrow(new TypeError('unknown set option "expiresIn"'))
    expect(() => db.atomic().set(['a'], 1, 5 as never)).toThrow(TypeError)
  })
})

describeBackends('commit error messages', (backend) => {
  it('names the key, not a mutation number, for a plain set or delete', async () => {
    const db = await backend.open()
    expect((await rejection(db.set(5 as never, 1))).message).toBe('key must be an array of key parts: received 5')
    expect((await rejection(db.delete([] as never))).message).toBe('key must have at least one part')
    expect((await rejection(db.set(['a'], () => 1))).message).not.toMatch(/mutation/)
    expect((await rejection(db.set(['x'.repeat(2048)], 1))).message).toBe(
      'Key too large for write (max 2048 bytes): received 2050',
    )
  })

  it('names the mutation index and the key in an atomic commit', async () => {
    const db = await backend.open()
    const big = await rejection(db.atomic().set(['a'], 1).set(['b', 2], new Uint8Array(70_000)).commit())
    expect(big).toBeInstanceOf(RangeError)
    expect(big.message).toMatch(/^mutation 1 \(set \["b", 2\]\): Value too large \(max 65536 bytes\): received 700\d\d$/)
    const badKey = await rejection(db.atomic().set(['a'], 1).delete('b' as never).commit())
    expect(badKey.message).toBe('mutation 1 (delete): key must be an array of key parts: received "b"')
    const longKey = await rejection(db.atomic().sum(['x'.repeat(2048)], 1n).commit())
    expect(longKey).toBeInstanceOf(RangeError)
    expect(longKey.message).toMatch(/^mutation 0 \(sum \["x{10,}…\]\): Key too large for write \(max 2048 bytes\): received 2050$/)
    const operand = await rejection(db.atomic().set(['a'], 1).min(['m'], -1n).commit())
    expect(operand.message).toBe('mutation 1 (min ["m"]): min operand must be between 0 and 2^64-1: received -1n')
  })

  it('names the mutation index and the key when a sum meets a value that is not a KvU64', async () => {
    const db = await backend.open()
    await db.set(['text'], 'hello')
    const error = await rejection(db.atomic().set(['a'], 1).sum(['text'], 1n).commit())
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('mutation 1 (sum ["text"]): the stored value is not a KvU64')
  })

  it('names the check index and key for a bad check versionstamp', async () => {
    const db = await backend.open()
    const error = await rejection(db.atomic().check({ key: ['a'], versionstamp: 'abc' }).commit())
    expect(error.message).toBe('check 0 (["a"]): versionstamp must be null or 20 lowercase hex digits: received "abc"')
  })

  it('hints at sum(key, -1n) when a negative KvU64 is refused', () => {
    expect(() => new KvU64(-1n)).toThrow(
      new RangeError('KvU64 value must be between 0 and 2^64-1 (to decrement a counter, use sum(key, -1n)): received -1n'),
    )
  })
})
