import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  defineDriver,
  limits,
  sqliteDriver,
  UniqueConstraintError,
  ValidationError,
  Valkeyrie,
  ValkeyrieError,
  WriteConflictError,
  type KvDriver,
  type KvKey,
} from '../../src/index.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'
import { describeBackends } from '../support/backends.js'

const User = z.object({ name: z.string(), email: z.email(), age: z.number().int().default(0) })
const Post = z.object({ author: z.string(), title: z.string().min(1), tags: z.array(z.string()).default([]) })

type Db = Valkeyrie

const usersOf = (db: Db) => db.collection(['users'], User, { indexes: { email: { on: (u) => u.email, unique: true } } })
const postsOf = (db: Db) => db.collection(['posts'], Post, { indexes: { author: (p) => p.author } })

/**
 * The default index prefix of a collection whose prefix is `parts` (strings only): `'__index'`, then the prefix's
 * encoded key as one Uint8Array part (a string part is `02`, its UTF-8 bytes, `00`).
 */
const indexSpace = (...parts: string[]) => ['__index', Uint8Array.from(parts.flatMap((p) => [0x02, ...Buffer.from(p), 0x00]))]

/** Every key in the database, in key order. */
const allKeys = async (db: Db): Promise<KvKey[]> => (await Array.fromAsync(db.list({ prefix: [] }))).map((e) => e.key)

/** A Standard Schema that is not zod: an async check that a value is a string, whose output is its length. */
const asyncLength: StandardSchemaV1<string, number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: async (value) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      return typeof value === 'string' ? { value: value.length } : { issues: [{ message: 'Expected a string.', path: [] }] }
    },
  },
}

describeBackends('collection: records', (backend) => {
  it('stores the schema output at [...prefix, id], a plain entry db.get reads too', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], User)
    const result = await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    expect(result.ok).toBe(true)
    expect(users.key('ada')).toEqual(['users', 'ada'])
    const entry = await users.get('ada')
    expect(entry).toEqual({
      id: 'ada',
      key: ['users', 'ada'],
      value: { name: 'Ada', email: 'ada@example.com', age: 0 },
      versionstamp: result.versionstamp,
    })
    expect(await db.get(['users', 'ada'])).toEqual({ key: ['users', 'ada'], value: entry.value, versionstamp: result.versionstamp })
  })

  it('returns an entry with null value and versionstamp for a missing id', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], User)
    expect(await users.get('nobody')).toEqual({ id: 'nobody', key: ['users', 'nobody'], value: null, versionstamp: null })
  })

  it('reads several ids in the order asked with getMany', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], User)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await users.set('bob', { name: 'Bob', email: 'bob@example.com', age: 40 })
    const entries = await users.getMany(['bob', 'nobody', 'ada'])
    expect(entries.map((e) => [e.id, e.value?.name ?? null])).toEqual([['bob', 'Bob'], ['nobody', null], ['ada', 'Ada']])
    await expect(users.getMany(Array.from({ length: 11 }, (_, i) => `u${i}`))).rejects.toThrow(RangeError)
  })

  it('deletes a record, whether or not it exists', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], User)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    expect(await users.delete('ada')).toBeUndefined()
    expect((await users.get('ada')).value).toBeNull()
    await expect(users.delete('nobody')).resolves.toBeUndefined()
  })

  it('expires a record set with expireIn', async () => {
    let now = 1_000_000
    const db = await backend.open({ clock: () => now })
    const sessions = db.collection(['sessions'], z.object({ user: z.string() }))
    await sessions.set('s1', { user: 'ada' }, { expireIn: 1000 })
    expect((await sessions.get('s1')).value).toEqual({ user: 'ada' })
    now += 1000
    expect((await sessions.get('s1')).value).toBeNull()
    await expect(sessions.set('s2', { user: 'ada' }, { expireIn: -1 })).rejects.toThrow(RangeError)
  })

  it('takes ids of several parts with idParts', async () => {
    const db = await backend.open()
    const comments = db.collection(['comments'], z.object({ text: z.string() }), { idParts: 2 })
    await comments.set(['post1', 2], { text: 'second' })
    await comments.set(['post1', 1], { text: 'first' })
    await comments.set(['post2', 1], { text: 'other' })
    expect(comments.key(['post1', 2])).toEqual(['comments', 'post1', 2])
    expect((await comments.get(['post1', 1])).id).toEqual(['post1', 1])
    const post1 = await Array.fromAsync(comments.list({ prefix: ['post1'] }))
    expect(post1.map((e) => [e.id, e.value.text])).toEqual([[['post1', 1], 'first'], [['post1', 2], 'second']])
    expect(() => comments.key(['post1'] as never)).toThrow(/id must be an array of 2 key parts: received an array of 1 parts/)
    expect(() => comments.key('post1' as never)).toThrow(TypeError)
  })

  it('throws TypeError for caller mistakes before any I/O', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], User)
    expect(() => db.collection([], User)).toThrow(/collection prefix must have at least one part/)
    expect(() => db.collection('users' as never, User)).toThrow(TypeError)
    expect(() => db.collection(['users'], { parse: () => 1 } as never)).toThrow(/Standard Schema v1/)
    expect(() => db.collection(['users'], User, { idPart: 2 } as never)).toThrow(/unknown collection option "idPart"/)
    expect(() => db.collection(['users'], User, { idParts: 0 })).toThrow(RangeError)
    expect(() => db.collection(['__index', 'users'], User)).toThrow(/collection prefix must not begin with '__index'/)
    expect(() => db.collection(['users'], User, { indexPrefix: ['users', 'idx'] })).toThrow(/indexPrefix must be neither inside/)
    expect(() => db.collection(['users'], User, { validateOnRead: 'yes' as never })).toThrow(TypeError)
    expect(() => db.collection(['users'], User, { indexes: { email: { unique: true } as never } })).toThrow(/index email/)
    expect(() => users.key({} as never)).toThrow(/id must be a string, number, bigint, boolean or Uint8Array: received an object/)
    expect(() => users.key(['ada'] as never)).toThrow(TypeError)
    await expect(users.get(null as never)).rejects.toThrow(TypeError)
    await expect(users.set(undefined as never, { name: 'A', email: 'a@example.com' })).rejects.toThrow(TypeError)
    await expect(users.set('ada', { name: 'A', email: 'a@example.com' }, { expireIn: 'soon' as never })).rejects.toThrow(TypeError)
    expect(() => users.list({ limit: 0 })).toThrow(RangeError)
    expect(() => users.list({ prefix: ['a'] })).toThrow(/list prefix must have fewer parts than an id \(1\): received 1/)
    expect(() => users.in({} as never)).toThrow(TypeError)
    expect(await allKeys(db)).toEqual([])
  })

  it('throws TypeError naming an unknown per-call option, before any I/O', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    const ada = { name: 'Ada', email: 'ada@example.com' }
    await expect(users.set('ada', ada, { expirein: 5 } as never)).rejects.toThrow(/^unknown set option "expirein"$/)
    await expect(users.set('ada', ada, { expireIn: 5, extra: undefined } as never)).rejects.toThrow(TypeError)
    expect(() => users.list({ limt: 1 } as never)).toThrow(/^unknown list option "limt"$/)
    expect(() => users.list({ prefix: [], consistency: 'strong' } as never)).toThrow(/unknown list option "consistency"/)
    expect(() => posts.listBy('author', 'ada', { prefix: ['x'] } as never)).toThrow(/^unknown listBy option "prefix"$/)
    expect(() => posts.listBy('author', 'ada', { revers: true } as never)).toThrow(TypeError)
    const op = db.atomic()
    expect(() => users.in(op).set('ada', ada, { expires: 5 } as never)).toThrow(/^unknown set option "expires"$/)
    // Every known option is still taken.
    await users.set('ada', ada, { expireIn: 60_000 })
    await Array.fromAsync(users.list({ prefix: [], start: 'a', end: 'z', limit: 1, reverse: true, batchSize: 1 }))
    await Array.fromAsync(posts.listBy('author', 'ada', { limit: 1, reverse: false, batchSize: 1, cursor: '' }))
    expect(await allKeys(db)).toHaveLength(2)
  })

  it('rejects calls after close with DatabaseClosedError', async () => {
    const db = await backend.create().openOwn()
    const users = db.collection(['users'], User)
    await db.close()
    await expect(users.get('ada')).rejects.toThrow(/database is closed/)
    await expect(users.set('ada', { name: 'Ada', email: 'ada@example.com' })).rejects.toThrow(/database is closed/)
    expect(() => db.collection(['users'], User)).toThrow(/database is closed/)
  })
})

describeBackends('collection: list', (backend) => {
  it('lists records in id order with decoded ids, limit, cursor and reverse', async () => {
    const db = await backend.open()
    const items = db.collection(['items'], z.object({ n: z.number() }))
    for (let i = 0; i < 25; i++) await items.set(i, { n: i })
    const all = await Array.fromAsync(items.list())
    expect(all.map((e) => e.id)).toEqual(Array.from({ length: 25 }, (_, i) => i))
    expect(all[3]).toMatchObject({ id: 3, key: ['items', 3], value: { n: 3 } })

    const page1 = items.list({ limit: 10 })
    expect((await Array.fromAsync(page1)).map((e) => e.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const page2 = await Array.fromAsync(items.list({ limit: 10, cursor: page1.cursor }))
    expect(page2.map((e) => e.id)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])

    const newest = await Array.fromAsync(items.list({ reverse: true, limit: 3 }))
    expect(newest.map((e) => e.id)).toEqual([24, 23, 22])
    const range = await Array.fromAsync(items.list({ start: 5, end: 8 }))
    expect(range.map((e) => e.id)).toEqual([5, 6, 7])
  })

  it('passes over keys under the prefix that are not records, and never meets index entries', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await db.set(['users', 'ada', 'settings'], { theme: 'dark' })
    await users.set('bob', { name: 'Bob', email: 'bob@example.com' })
    expect((await Array.fromAsync(users.list())).map((e) => e.id)).toEqual(['ada', 'bob'])
    expect((await Array.fromAsync(db.list({ prefix: ['users'] }))).map((e) => e.key)).toEqual([
      ['users', 'ada'],
      ['users', 'ada', 'settings'],
      ['users', 'bob'],
    ])
  })

  it('keeps a cursor that resumes after the last entry returned', async () => {
    const db = await backend.open()
    const items = db.collection(['items'], z.number())
    for (const id of ['a', 'b', 'c', 'd']) await items.set(id, 1)
    const iterator = items.list()
    expect(iterator.cursor).toBe('')
    await iterator.next()
    await iterator.next()
    const rest = await Array.fromAsync(items.list({ cursor: iterator.cursor }))
    expect(rest.map((e) => e.id)).toEqual(['c', 'd'])
  })
})

describeBackends('collection: validation', (backend) => {
  it('rejects an invalid value with ValidationError carrying the key and the issues, and writes nothing', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const error = await rejection(users.set('ada', { name: 'Ada', email: 'not an email' }))
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toBeInstanceOf(ValkeyrieError)
    const { key, issues, name, message } = error as ValidationError
    expect(name).toBe('ValidationError')
    expect(key).toEqual(['users', 'ada'])
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toEqual(['email'])
    expect(message).toMatch(/^value at \["users", "ada"\] does not match its schema: email: /)
    expect(message).not.toMatch(/\.$/)
    await expect(users.set('ada', { name: 42, age: 'x' } as never)).rejects.toThrow(/\(and 2 more issues\)/)
    expect(await allKeys(db)).toEqual([])
  })

  it('validates with async zod schemas', async () => {
    const db = await backend.open()
    const taken = new Set(['root'])
    const Account = z.object({
      login: z.string().refine(async (login) => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        return !taken.has(login)
      }, 'login is reserved'),
    })
    const accounts = db.collection(['accounts'], Account)
    await accounts.set(1, { login: 'ada' })
    expect((await accounts.get(1)).value).toEqual({ login: 'ada' })
    const error = (await rejection(accounts.set(2, { login: 'root' }))) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.issues[0]?.message).toBe('login is reserved')
    expect((await accounts.get(2)).versionstamp).toBeNull()
  })

  it('works with any Standard Schema, storing its output', async () => {
    const db = await backend.open()
    const lengths = db.collection(['lengths'], asyncLength)
    await lengths.set('hello', 'hello')
    expect((await lengths.get('hello')).value).toBe(5)
    const error = (await rejection(lengths.set('bad', 5 as never))) as ValidationError
    expect(error.message).toBe('value at ["lengths", "bad"] does not match its schema: Expected a string')
    expect((await lengths.get('bad')).value).toBeNull()
  })

  it('trusts stored values on read unless asked to validate them', async () => {
    const db = await backend.open()
    await db.set(['users', 'old'], { name: 'Old', email: 'not an email' })
    await db.set(['users', 'legacy'], { name: 'Legacy', email: 'legacy@example.com' })
    const trusting = db.collection(['users'], User)
    expect((await trusting.get('old')).value).toEqual({ name: 'Old', email: 'not an email' })

    const strict = db.collection(['users'], User, { validateOnRead: 'error' })
    const error = (await rejection(strict.get('old'))) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.key).toEqual(['users', 'old'])
    await expect(Array.fromAsync(strict.list())).rejects.toThrow(ValidationError)
    // Read validation returns the schema's output: defaults fill in for data written before them.
    expect((await strict.get('legacy')).value).toEqual({ name: 'Legacy', email: 'legacy@example.com', age: 0 })

    const skipping = db.collection(['users'], User, { validateOnRead: 'skip' })
    expect(await skipping.get('old')).toEqual({ id: 'old', key: ['users', 'old'], value: null, versionstamp: null })
    expect((await Array.fromAsync(skipping.list())).map((e) => e.id)).toEqual(['legacy'])
    expect((await skipping.getMany(['old', 'legacy'])).map((e) => e.value?.age ?? null)).toEqual([null, 0])
  })
})

describeBackends('collection: atomic', (backend) => {
  it('commits validated writes over two collections together, under one versionstamp', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    const op = db.atomic()
    users.in(op).set('ada', { name: 'Ada', email: 'ada@example.com' })
    posts.in(op).set('p1', { author: 'ada', title: 'Notes on the engine' }).set('p2', { author: 'ada', title: 'Bernoulli' })
    op.set(['stats', 'posts'], 2)
    const result = await op.commit()
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect((await users.get('ada')).versionstamp).toBe(result.versionstamp)
    expect((await posts.get('p2')).value).toEqual({ author: 'ada', title: 'Bernoulli', tags: [] })
    expect((await db.get(['stats', 'posts'])).versionstamp).toBe(result.versionstamp)
    expect((await users.findBy('email', 'ada@example.com'))?.id).toBe('ada')
    expect((await Array.fromAsync(posts.listBy('author', 'ada'))).map((e) => e.id)).toEqual(['p1', 'p2'])
  })

  it('applies nothing when one value of the commit is invalid, with sync or async schemas', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const lengths = db.collection(['lengths'], asyncLength)
    const op = db.atomic().set(['plain'], 1)
    users.in(op).set('ada', { name: 'Ada', email: 'ada@example.com' })
    lengths.in(op).set('x', 5 as never)
    const error = await rejection(op.commit())
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).key).toEqual(['lengths', 'x'])

    const op2 = db.atomic()
    lengths.in(op2).set('y', 'fine')
    users.in(op2).set('bob', { name: 'Bob', email: 'bob' })
    await expect(op2.commit()).rejects.toThrow(ValidationError)
    expect(await allKeys(db)).toEqual([])
  })

  it('fails on a collection check like any check, and applies nothing', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    const { versionstamp } = await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await users.set('ada', { name: 'Ada L.', email: 'ada@example.com' })
    const result = await users
      .in(db.atomic())
      .check('ada', versionstamp)
      .set('ada', { name: 'Stale', email: 'stale@example.com' })
      .commit()
    expect(result).toEqual({ ok: false })
    const op = db.atomic()
    users.in(op).check('bob', null)
    posts.in(op).set('p1', { author: 'bob', title: 'Hello' })
    expect((await op.commit()).ok).toBe(true)
    expect((await users.get('ada')).value?.name).toBe('Ada L.')
    expect(await users.findBy('email', 'stale@example.com')).toBeNull()
  })

  it('rejects a taken unique value inside an atomic and applies nothing', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    const before = await allKeys(db)
    const op = db.atomic()
    posts.in(op).set('p1', { author: 'eve', title: 'Mine now' })
    users.in(op).set('eve', { name: 'Eve', email: 'ada@example.com' })
    await expect(op.commit()).rejects.toThrow(UniqueConstraintError)
    expect(await allKeys(db)).toEqual(before)
  })

  it('sees its own earlier writes: a unique value moves within one commit, and cannot be taken twice', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    const moved = await users
      .in(db.atomic())
      .delete('ada')
      .set('ada2', { name: 'Ada', email: 'ada@example.com' })
      .commit()
    expect(moved.ok).toBe(true)
    expect((await users.findBy('email', 'ada@example.com'))?.id).toBe('ada2')
    expect((await users.get('ada')).value).toBeNull()

    const twice = users
      .in(db.atomic())
      .set('x', { name: 'X', email: 'same@example.com' })
      .set('y', { name: 'Y', email: 'same@example.com' })
    await expect(twice.commit()).rejects.toThrow(UniqueConstraintError)
    expect(await users.findBy('email', 'same@example.com')).toBeNull()
  })

  it('keeps the order of mutations with plain ones of the same operation', async () => {
    const db = await backend.open()
    const counters = db.collection(['counters'], z.number())
    const op = db.atomic().set(['counters', 'a'], 'raw')
    counters.in(op).set('a', 1).set('b', 2)
    op.set(['counters', 'b'], 'raw')
    expect((await op.commit()).ok).toBe(true)
    expect((await db.get(['counters', 'a'])).value).toBe(1)
    expect((await db.get(['counters', 'b'])).value).toBe('raw')
  })

  it('does not leave an unhandled rejection for an operation never committed', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    users.in(db.atomic()).set('ada', { name: 'Ada', email: 'nope' })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await allKeys(db)).toEqual([])
  })
})

describeBackends('collection: indexes', (backend) => {
  it('finds a record by a unique index, and rejects a second record with the same value', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    const found = await users.findBy('email', 'ada@example.com')
    expect(found).toMatchObject({ id: 'ada', key: ['users', 'ada'], value: { name: 'Ada' } })
    expect(await users.findBy('email', 'nobody@example.com')).toBeNull()

    const error = (await rejection(users.set('eve', { name: 'Eve', email: 'ada@example.com' }))) as UniqueConstraintError
    expect(error).toBeInstanceOf(UniqueConstraintError)
    expect(error).toMatchObject({
      name: 'UniqueConstraintError',
      key: ['users', 'eve'],
      index: 'email',
      indexValue: 'ada@example.com',
      existingKey: ['users', 'ada'],
    })
    expect(error.message).toBe(
      'value at ["users", "eve"] breaks unique index email: "ada@example.com" belongs to ["users", "ada"]',
    )
    expect((await users.get('eve')).value).toBeNull()
    // The record holding a value may be rewritten with it.
    await users.set('ada', { name: 'Ada Lovelace', email: 'ada@example.com' })
    expect((await users.findBy('email', 'ada@example.com'))?.value.name).toBe('Ada Lovelace')
  })

  it('keeps index entries at the documented keys', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await posts.set('p1', { author: 'ada', title: 'Notes' })
    expect(await Array.fromAsync(db.list({ prefix: ['__index'] }), (e) => [e.key, e.value])).toEqual([
      [[...indexSpace('posts'), 'author', 'ada', 'p1'], null],
      [[...indexSpace('users'), 'email', 'ada@example.com'], ['ada']],
    ])
  })

  it('moves index entries when a record changes, and frees the old values', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await users.set('ada', { name: 'Ada', email: 'lovelace@example.com' })
    expect(await users.findBy('email', 'ada@example.com')).toBeNull()
    expect((await users.findBy('email', 'lovelace@example.com'))?.id).toBe('ada')
    await users.set('other', { name: 'Other', email: 'ada@example.com' })
    expect((await users.findBy('email', 'ada@example.com'))?.id).toBe('other')

    await posts.set('p1', { author: 'ada', title: 'One' })
    await posts.set('p2', { author: 'ada', title: 'Two' })
    await posts.set('p1', { author: 'bob', title: 'One' })
    expect((await Array.fromAsync(posts.listBy('author', 'ada'))).map((e) => e.id)).toEqual(['p2'])
    expect((await Array.fromAsync(posts.listBy('author', 'bob'))).map((e) => e.id)).toEqual(['p1'])
    expect(await Array.fromAsync(db.list({ prefix: indexSpace('posts') }), (e) => e.key)).toEqual([
      [...indexSpace('posts'), 'author', 'ada', 'p2'],
      [...indexSpace('posts'), 'author', 'bob', 'p1'],
    ])
  })

  it('removes index entries with the record on delete', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await posts.set('p1', { author: 'ada', title: 'One' })
    await users.delete('ada')
    await posts.delete('p1')
    expect(await allKeys(db)).toEqual([])
    expect(await users.findBy('email', 'ada@example.com')).toBeNull()
    await users.set('eve', { name: 'Eve', email: 'ada@example.com' })
    expect((await users.findBy('email', 'ada@example.com'))?.id).toBe('eve')
  })

  it('leaves out records whose index function returns null or undefined', async () => {
    const db = await backend.open()
    const people = db.collection(['people'], z.object({ name: z.string(), phone: z.string().optional() }), {
      indexes: { phone: { on: (p) => p.phone, unique: true } },
    })
    await people.set(1, { name: 'A' })
    await people.set(2, { name: 'B' })
    await people.set(3, { name: 'C', phone: '555' })
    expect((await people.findBy('phone', '555'))?.id).toBe(3)
    await people.set(3, { name: 'C' })
    expect(await people.findBy('phone', '555')).toBeNull()
    expect(await Array.fromAsync(db.list({ prefix: ['__index'] }))).toEqual([])
  })

  it('lists by a non-unique index with limit, cursor and reverse', async () => {
    const db = await backend.open()
    const posts = postsOf(db)
    for (let i = 0; i < 25; i++) await posts.set(`p${String(i).padStart(2, '0')}`, { author: i % 2 ? 'ada' : 'bob', title: `#${i}` })
    const ada = await Array.fromAsync(posts.listBy('author', 'ada'))
    expect(ada).toHaveLength(12)
    expect(ada.every((e) => e.value.author === 'ada')).toBe(true)
    const page1 = posts.listBy('author', 'ada', { limit: 5 })
    const first = await Array.fromAsync(page1)
    const second = await Array.fromAsync(posts.listBy('author', 'ada', { limit: 5, cursor: page1.cursor }))
    expect([...first, ...second].map((e) => e.id)).toEqual(ada.slice(0, 10).map((e) => e.id))
    const last = await Array.fromAsync(posts.listBy('author', 'ada', { reverse: true, limit: 2 }))
    expect(last.map((e) => e.id)).toEqual(['p23', 'p21'])
    expect(await Array.fromAsync(posts.listBy('author', 'nobody'))).toEqual([])
  })

  it('ignores stale index entries on read and takes them over on write', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await posts.set('p1', { author: 'ada', title: 'One' })
    // Plain writes bypass the collection: the index entries now name records that no longer have their values.
    await db.set(['users', 'ada'], { name: 'Ada', email: 'changed@example.com', age: 0 })
    await db.set(['posts', 'p1'], { author: 'bob', title: 'One', tags: [] })
    expect(await users.findBy('email', 'ada@example.com')).toBeNull()
    expect(await Array.fromAsync(posts.listBy('author', 'ada'))).toEqual([])
    await users.set('eve', { name: 'Eve', email: 'ada@example.com' })
    expect((await users.findBy('email', 'ada@example.com'))?.id).toBe('eve')
  })

  it('expires index entries with their record', async () => {
    let now = 1_000_000
    const db = await backend.open({ clock: () => now })
    const users = usersOf(db)
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' }, { expireIn: 500 })
    expect((await users.findBy('email', 'ada@example.com'))?.id).toBe('ada')
    now += 500
    expect(await users.findBy('email', 'ada@example.com')).toBeNull()
    await users.set('eve', { name: 'Eve', email: 'ada@example.com' })
    await db.cleanup()
    expect(await allKeys(db)).toEqual([[...indexSpace('users'), 'email', 'ada@example.com'], ['users', 'eve']])
  })

  it('uses indexPrefix for index entries when given', async () => {
    const db = await backend.open()
    const users = db.collection(['users'], User, {
      indexPrefix: ['idx', 'u'],
      indexes: { email: { on: (u) => u.email, unique: true } },
    })
    await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
    expect(await allKeys(db)).toEqual([['idx', 'u', 'email', 'ada@example.com'], ['users', 'ada']])
  })

  it('rejects misuse of indexes with TypeError', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await expect(users.findBy('missing' as never, 'x' as never)).rejects.toThrow(/no index named "missing"/)
    await expect(posts.findBy('author' as never, 'ada' as never)).rejects.toThrow(/index author is not unique: use listBy/)
    expect(() => users.listBy('email' as never, 'x' as never)).toThrow(/index email is unique: use findBy/)
    await expect(users.findBy('email', {} as never)).rejects.toThrow(TypeError)
    const broken = db.collection(['broken'], z.object({ at: z.date() }), { indexes: { at: (v) => v.at as never } })
    await expect(broken.set(1, { at: new Date() })).rejects.toThrow(/index at value must be a string, number, bigint, boolean or Uint8Array: received a Date/)
    expect(await allKeys(db)).toEqual([])
  })
})

describeBackends('collection: nested prefixes', (backend) => {
  // A parent ['users'] whose index "team" has the value "email", and a child collection at ['users', 'team'] with a
  // unique email index: under a layout of ['__index', ...prefix, name, value, ...id] both write the same keys.
  const Member = z.object({ team: z.string(), handle: z.string() })
  const parentOf = (db: Db) => db.collection(['users'], Member, { indexes: { team: (m) => m.team } })
  const childOf = (db: Db) =>
    db.collection(['users', 'team'], User, { indexes: { email: { on: (u) => u.email, unique: true } } })

  it('keeps a child collection\'s unique entries whatever its parent writes', async () => {
    const db = await backend.open()
    const parent = parentOf(db)
    const child = childOf(db)
    await child.set('ada', { name: 'Ada', email: 'ada@example.com' })
    // The parent's record "ada@example.com" with team "email": its entry would land on the child's unique entry.
    await parent.set('ada@example.com', { team: 'email', handle: 'ada' })
    await parent.delete('ada@example.com')
    expect((await child.findBy('email', 'ada@example.com'))?.id).toBe('ada')
    await expect(child.set('eve', { name: 'Eve', email: 'ada@example.com' })).rejects.toThrow(UniqueConstraintError)
    const holders = (await Array.fromAsync(child.list())).filter((e) => e.value.email === 'ada@example.com')
    expect(holders.map((e) => e.id)).toEqual(['ada'])
  })

  it('keeps a parent\'s entries whatever a child collection writes', async () => {
    const db = await backend.open()
    const parent = parentOf(db)
    const child = childOf(db)
    await parent.set('ada@example.com', { team: 'email', handle: 'ada' })
    await child.set('ada', { name: 'Ada', email: 'ada@example.com' })
    await child.delete('ada')
    expect((await Array.fromAsync(parent.listBy('team', 'email'))).map((e) => e.id)).toEqual(['ada@example.com'])
  })
})

// Counts the calls of a wrapped SQLite driver: about when I/O happens, not about a backend.
describe('collection: oversized keys', () => {
  /** SQLite through the driver interface, counting every call to the storage once `counting` is set. */
  function countingSqlite() {
    const counter = { counting: false, calls: 0 }
    const driver = defineDriver(async (path) => {
      const inner = (await sqliteDriver(path)) as KvDriver
      const count = () => void (counter.counting && counter.calls++)
      return {
        get: (key, now) => (count(), inner.get(key, now)),
        set: (key, value, versionstamp, expiresAt) => (count(), inner.set(key, value, versionstamp, expiresAt)),
        delete: (key) => (count(), inner.delete(key)),
        list: (start, end, prefix, now, limit, reverse) => (count(), inner.list(start, end, prefix, now, limit, reverse)),
        cleanup: (now) => (count(), inner.cleanup(now)),
        withTransaction: (callback) => (count(), inner.withTransaction(callback)),
        close: () => inner.close(),
      }
    })
    return { counter, driver }
  }

  const Profile = z.object({ bio: z.string(), handle: z.string() })
  const big = 'x'.repeat(limits.MAX_KEY_BYTES)

  it('refuses a write whose index entry key is too large, naming the index and the size, before any I/O', async () => {
    const { counter, driver } = countingSqlite()
    const db = await openTestDb(tempDbPath(), driver)
    const profiles = db.collection(['profiles'], Profile, {
      indexes: { bio: (p) => p.bio, handle: { on: (p) => p.handle, unique: true } },
    })
    counter.counting = true
    const tooLarge = /^Key too large for write \(max 2048 bytes\) in index (bio|handle): received \d+$/
    const bio = await rejection(profiles.set('ada', { bio: big, handle: 'ada' }))
    expect(bio).toBeInstanceOf(RangeError)
    expect(bio.message).toMatch(tooLarge)
    expect(bio.message).toContain('in index bio: received 2')
    const handle = await rejection(profiles.set('ada', { bio: 'short', handle: big }))
    expect(handle.message).toMatch(tooLarge)
    expect(handle.message).toContain('in index handle')
    const id = await rejection(profiles.set(big, { bio: 'short', handle: 'ada' }))
    expect(id.message).toMatch(/^Key too large for write \(max 2048 bytes\): received \d+$/)
    await expect(profiles.delete(big)).rejects.toThrow(/^Key too large for write/)
    expect(counter.calls).toBe(0)

    const op = db.atomic()
    profiles.in(op).set('ada', { bio: big, handle: 'ada' })
    await expect(op.commit()).rejects.toThrow(tooLarge)
    expect(counter.calls).toBe(0)
    counter.counting = false
    expect(await allKeys(db)).toEqual([])
  })
})

describeBackends('collection: concurrent writers', (backend) => {
  it('lets exactly one of many overlapping writers take a unique value', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => users.set(`u${i}`, { name: `User ${i}`, email: 'same@example.com' })),
    )
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`u${i}`] : []))
    expect(winners).toHaveLength(1)
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UniqueConstraintError)
    }
    expect((await users.findBy('email', 'same@example.com'))?.id).toBe(winners[0])
    expect((await Array.fromAsync(users.list())).map((e) => e.id)).toEqual(winners)
  })

  it('keeps indexes consistent under overlapping updates of one record', async () => {
    const db = await backend.open()
    const users = usersOf(db)
    const posts = postsOf(db)
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => users.set('ada', { name: 'Ada', email: `ada${i}@example.com` })),
      ...Array.from({ length: 20 }, (_, i) => posts.set('p1', { author: `author${i}`, title: 'One' })),
    ])
    const ada = await users.get('ada')
    const p1 = await posts.get('p1')
    const index = await Array.fromAsync(db.list({ prefix: ['__index'] }), (e) => e.key)
    expect(index).toEqual([
      [...indexSpace('posts'), 'author', p1.value?.author ?? '', 'p1'],
      [...indexSpace('users'), 'email', ada.value?.email ?? ''],
    ])
  })

  if (backend.persistent) it('lets one writer win across two connections to one database', async () => {
    const place = backend.create()
    const first = await place.open()
    const second = await place.open()
    const a = usersOf(first)
    const b = usersOf(second)
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).set(`u${i}`, { name: `User ${i}`, email: 'shared@example.com' }),
      ),
    )
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`u${i}`] : []))
    expect(winners).toHaveLength(1)
    expect(results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof UniqueConstraintError)).toBe(true)
    expect((await b.findBy('email', 'shared@example.com'))?.id).toBe(winners[0])
    expect((await Array.fromAsync(a.list())).map((e) => e.id)).toEqual(winners)
  })

  it('gives up with WriteConflictError when concurrent writes never stop', async () => {
    const db = await backend.open()
    // The index function rewrites the record behind the collection's back each time it runs: every commit conflicts.
    const flaky = db.collection(['flaky'], z.object({ v: z.number() }), {
      indexes: {
        v: (value) => {
          void db.set(['flaky', 'x'], { v: -1 })
          return value.v
        },
      },
    })
    const error = (await rejection(flaky.set('x', { v: 1 }))) as WriteConflictError
    expect(error).toBeInstanceOf(WriteConflictError)
    expect(error).toMatchObject({ key: ['flaky', 'x'], attempts: 100 })
    expect(await Array.fromAsync(db.list({ prefix: ['__index'] }))).toEqual([])
    expect((await db.get(['flaky', 'x'])).value).toEqual({ v: -1 })
  })
})
