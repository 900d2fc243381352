import { expect, it } from 'vitest'
import type { KvKey, Valkeyrie } from '../../src/index.js'
import { describeBackends } from '../support/backends.js'

const keysOf = async (it: AsyncIterable<{ key: KvKey }>) => (await Array.fromAsync(it)).map((e) => e.key)

async function seedUsers(db: Valkeyrie, n = 9): Promise<void> {
  await db.set(['users'], 'the prefix key itself')
  for (let i = 1; i <= n; i++) await db.set(['users', `user${i}`], { i })
  await db.set(['usersx'], 'a sibling')
  await db.set(['posts', 1], 'other')
}

describeBackends('list', (backend) => {
  it('lists the strict descendants of a prefix, in key order', async () => {
    const db = await backend.open()
    await seedUsers(db, 3)
    expect(await keysOf(db.list({ prefix: ['users'] }))).toEqual([['users', 'user1'], ['users', 'user2'], ['users', 'user3']])
  })

  it('lists everything with prefix []', async () => {
    const db = await backend.open()
    await db.set(['a'], 1)
    await db.set([1], 2)
    await db.set([true], 3)
    expect(await keysOf(db.list({ prefix: [] }))).toEqual([['a'], [1], [true]])
  })

  it('narrows a prefix with start and end written relative to the prefix, as the docs do', async () => {
    const db = await backend.open()
    await seedUsers(db)
    const keys = await keysOf(db.list({ prefix: ['users'], start: ['user1'], end: ['user5'] }))
    expect(keys).toEqual([['users', 'user1'], ['users', 'user2'], ['users', 'user3'], ['users', 'user4']])
  })

  it('narrows a prefix with start and end written as full keys, Deno KV style', async () => {
    const db = await backend.open()
    await seedUsers(db)
    expect(await keysOf(db.list({ prefix: ['users'], start: ['users', 'user8'] }))).toEqual([['users', 'user8'], ['users', 'user9']])
    expect(await keysOf(db.list({ prefix: ['users'], end: ['users', 'user2'] }))).toEqual([['users', 'user1']])
  })

  it('lists a half-open [start, end) range', async () => {
    const db = await backend.open()
    for (const k of ['a', 'b', 'c', 'z']) await db.set([k], k)
    expect(await keysOf(db.list({ start: ['a'], end: ['z'] }))).toEqual([['a'], ['b'], ['c']])
    expect(await keysOf(db.list({ start: ['b'], end: ['b'] }))).toEqual([])
  })

  it('lists number key ranges inside a prefix', async () => {
    const db = await backend.open()
    for (const id of [50, 100, 123, 150, 200, 250]) await db.set(['products', id, 'name'], `p${id}`)
    const keys = await keysOf(db.list({ prefix: ['products'], start: [100], end: [200] }))
    expect(keys).toEqual([['products', 100, 'name'], ['products', 123, 'name'], ['products', 150, 'name']])
  })

  it('orders key part types Uint8Array < string < bigint < number < false < true', async () => {
    const db = await backend.open()
    const keys: KvKey[] = [['t', true], ['t', false], ['t', 2], ['t', -1], ['t', 10n], ['t', -10n], ['t', 'b'], ['t', 'a'], ['t', new Uint8Array([2])], ['t', new Uint8Array([1, 0])]]
    for (const key of keys) await db.set(key, 1)
    expect(await keysOf(db.list({ prefix: ['t'] }))).toEqual([
      ['t', new Uint8Array([1, 0])], ['t', new Uint8Array([2])], ['t', 'a'], ['t', 'b'], ['t', -10n], ['t', 10n], ['t', -1], ['t', 2], ['t', false], ['t', true],
    ])
  })

  it('lists in reverse', async () => {
    const db = await backend.open()
    await seedUsers(db, 3)
    expect(await keysOf(db.list({ prefix: ['users'] }, { reverse: true }))).toEqual([['users', 'user3'], ['users', 'user2'], ['users', 'user1']])
  })

  it('pages with limit and cursor, as documented', async () => {
    const db = await backend.open()
    for (let i = 0; i < 25; i++) await db.set(['users', i], i)
    const page1 = db.list({ prefix: ['users'] }, { limit: 10 })
    const users1 = await Array.fromAsync(page1)
    const cursor = page1.cursor
    const page2 = db.list({ prefix: ['users'] }, { limit: 10, cursor })
    const users2 = await Array.fromAsync(page2)
    const page3 = db.list({ prefix: ['users'] }, { limit: 10, cursor: page2.cursor })
    const users3 = await Array.fromAsync(page3)
    expect([...users1, ...users2, ...users3].map((e) => e.value)).toEqual(Array.from({ length: 25 }, (_, i) => i))
    expect(users3).toHaveLength(5)
  })

  it('resumes in either direction exactly after the cursor entry', async () => {
    const db = await backend.open()
    for (let i = 0; i < 10; i++) await db.set(['n', i], i)
    const it = db.list({ prefix: ['n'] }, { limit: 4 })
    await Array.fromAsync(it)
    const forward = await Array.fromAsync(db.list({ prefix: ['n'] }, { cursor: it.cursor }))
    const backward = await Array.fromAsync(db.list({ prefix: ['n'] }, { cursor: it.cursor, reverse: true }))
    expect(forward.map((e) => e.value)).toEqual([4, 5, 6, 7, 8, 9])
    expect(backward.map((e) => e.value)).toEqual([2, 1, 0])
  })

  it('pages a reverse listing with cursors', async () => {
    const db = await backend.open()
    for (let i = 0; i < 7; i++) await db.set(['n', i], i)
    const seen: number[] = []
    let cursor = ''
    for (;;) {
      const it = db.list<number>({ prefix: ['n'] }, { reverse: true, limit: 3, cursor })
      const page = await Array.fromAsync(it)
      if (page.length === 0) break
      seen.push(...page.map((e) => e.value))
      cursor = it.cursor
    }
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0])
  })

  it('pages a start/end range with cursors', async () => {
    const db = await backend.open()
    for (const k of ['a', 'b', 'c', 'd', 'e']) await db.set([k], k)
    const it = db.list({ start: ['a'], end: ['e'] }, { limit: 2 })
    expect((await Array.fromAsync(it)).map((e) => e.value)).toEqual(['a', 'b'])
    const rest = await Array.fromAsync(db.list({ start: ['a'], end: ['e'] }, { cursor: it.cursor }))
    expect(rest.map((e) => e.value)).toEqual(['c', 'd'])
  })

  it('rejects a malformed cursor or one from another selector with a TypeError', async () => {
    const db = await backend.open()
    await db.set(['a', 1], 1)
    await db.set(['b', 1], 1)
    const it = db.list({ prefix: ['b'] })
    await Array.fromAsync(it)
    expect(() => db.list({ prefix: ['a'] }, { cursor: '!!!' })).toThrow(TypeError)
    // The same bytes relative to another prefix name a key outside it only if they do not decode; a start/end
    // cursor past the range is outside the selector.
    const range = db.list({ start: ['a'], end: ['c'] })
    await Array.fromAsync(range)
    expect(() => db.list({ start: ['a'], end: ['b'] }, { cursor: range.cursor })).toThrow(/outside the list selector/)
  })

  it('streams batches smaller than the listing and honours limit across them', async () => {
    const db = await backend.open()
    const op = db.atomic()
    for (let i = 0; i < 1000; i++) op.set(['many', i], i)
    await op.commit()
    const all = await Array.fromAsync(db.list<number>({ prefix: ['many'] }, { batchSize: 7 }))
    expect(all.map((e) => e.value)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    const some = await Array.fromAsync(db.list<number>({ prefix: ['many'] }, { batchSize: 7, limit: 20, reverse: true }))
    expect(some.map((e) => e.value)).toEqual(Array.from({ length: 20 }, (_, i) => 999 - i))
  })

  it('sees writes committed between batches', async () => {
    const db = await backend.open()
    for (let i = 0; i < 10; i++) await db.set(['w', i], i)
    const it = db.list<number>({ prefix: ['w'] }, { batchSize: 2 })
    const first = await it.next()
    expect(first.value?.value).toBe(0)
    await db.set(['w', 9.5], 'late')
    const rest = await Array.fromAsync(it)
    expect(rest.map((e) => e.key[1])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 9.5])
  })

  it('rejects bad selectors and options', async () => {
    const db = await backend.open()
    expect(() => db.list({ start: ['a'] } as never)).toThrow(TypeError)
    expect(() => db.list({ end: ['a'] } as never)).toThrow(TypeError)
    expect(() => db.list({} as never)).toThrow(TypeError)
    expect(() => db.list(null as never)).toThrow(TypeError)
    expect(() => db.list({ start: ['b'], end: ['a'] })).toThrow(TypeError)
    expect(() => db.list({ prefix: ['a'], start: ['z'], end: ['b'] })).toThrow(TypeError)
    expect(() => db.list({ prefix: ['a'] }, { limit: 0 })).toThrow(RangeError)
    expect(() => db.list({ prefix: ['a'] }, { limit: 1.5 })).toThrow(TypeError)
    expect(() => db.list({ prefix: ['a'] }, { batchSize: 1001 })).toThrow(RangeError)
    expect(() => db.list({ prefix: ['a'] }, { reverse: 'yes' as never })).toThrow(TypeError)
    expect(() => db.list({ prefix: 'a' as never })).toThrow(TypeError)
  })

  it('names an unknown option, and says "a positive integer" with the value received for limit and batchSize', async () => {
    const db = await backend.open()
    expect(() => db.list({ prefix: ['a'] }, { limt: 2 } as never)).toThrow(new TypeError('unknown list option "limt"'))
    expect(() => db.list({ prefix: ['a'] }, { limit: 0 })).toThrow(new RangeError('limit must be a positive integer: received 0'))
    expect(() => db.list({ prefix: ['a'] }, { limit: -3 })).toThrow(new RangeError('limit must be a positive integer: received -3'))
    expect(() => db.list({ prefix: ['a'] }, { batchSize: 0 })).toThrow(
      new RangeError('batchSize must be a positive integer: received 0'),
    )
    expect(() => db.list({ prefix: ['a'] }, { batchSize: 1001 })).toThrow(
      new RangeError('batchSize must be at most 1000: received 1001'),
    )
    expect(() => db.list({ prefix: ['a'] }, { limit: Infinity })).toThrow(
      new TypeError('limit must be a positive integer: received Infinity'),
    )
  })

  it('gives the cursor of the last entry yielded even when the listing stops early', async () => {
    const db = await backend.open()
    for (let i = 0; i < 5; i++) await db.set(['c', i], i)
    const it = db.list<number>({ prefix: ['c'] })
    for await (const entry of it) if (entry.value === 2) break
    const rest = await Array.fromAsync(db.list<number>({ prefix: ['c'] }, { cursor: it.cursor }))
    expect(rest.map((e) => e.value)).toEqual([3, 4])
  })
})
