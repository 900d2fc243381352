import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  Valkeyrie,
  type AtomicCollection,
  type CollectionEntry,
  type IndexDefinitions,
  type KvCommitResult,
  type KvKey,
  type KvKeyPart,
} from '../../src/index.js'

declare const db: Valkeyrie

const user = z.object({ name: z.string(), email: z.email(), age: z.number().default(0) })
type UserIn = { name: string; email: string; age?: number | undefined }
type UserOut = { name: string; email: string; age: number }

describe('collection types', () => {
  it('takes the schema input on set and gives the output on get', async () => {
    const users = db.collection(['users'], user)
    expectTypeOf(users.set).parameter(1).toEqualTypeOf<UserIn>()
    expectTypeOf(users.set('ada', { name: 'Ada', email: 'ada@example.com' })).resolves.toEqualTypeOf<KvCommitResult>()
    const ada = await users.get('ada')
    expectTypeOf(ada.value).toEqualTypeOf<UserOut | null>()
    expectTypeOf(ada.id).toEqualTypeOf<KvKeyPart>()
    expectTypeOf(ada.key).toEqualTypeOf<KvKey>()
    expectTypeOf(ada.versionstamp).toEqualTypeOf<string | null>()
    if (ada.versionstamp !== null) expectTypeOf(ada.value).toEqualTypeOf<UserOut>()
  })

  it('makes a wrong value type a compile error', async () => {
    const users = db.collection(['users'], user)
    // @ts-expect-error age must be a number
    await users.set('ada', { name: 'Ada', email: 'ada@example.com', age: '36' })
    // @ts-expect-error name is required
    await users.set('ada', { email: 'ada@example.com' })
    // @ts-expect-error an id is a key part, not an object
    await users.get({ id: 'ada' })
    // @ts-expect-error a one-part id is not an array
    await users.get(['ada'])
    // @ts-expect-error in an atomic operation too
    users.in(db.atomic()).set('ada', { name: 'Ada', email: 1 })
  })

  it('types list entries by the schema output', async () => {
    const users = db.collection(['users'], user)
    for await (const entry of users.list({ limit: 10, reverse: true })) {
      expectTypeOf(entry).toEqualTypeOf<CollectionEntry<UserOut, KvKeyPart>>()
      expectTypeOf(entry.value.age).toBeNumber()
    }
    expectTypeOf(users.list().cursor).toBeString()
    expectTypeOf(users.getMany(['a', 'b'])).resolves.items.toHaveProperty('value').toEqualTypeOf<UserOut | null>()
  })

  it('types ids of idParts: n as tuples of n key parts', async () => {
    const posts = db.collection(['posts'], z.object({ title: z.string() }), { idParts: 2 })
    type PostId = readonly [KvKeyPart, KvKeyPart]
    expectTypeOf(posts.key).parameter(0).toEqualTypeOf<PostId>()
    await posts.set(['ada', 1], { title: 'Notes' })
    // @ts-expect-error a composite id is an array
    await posts.get('ada')
    // @ts-expect-error too few parts
    await posts.get(['ada'])
    // @ts-expect-error too many parts
    await posts.set(['ada', 1, 2], { title: 'Notes' })
    // @ts-expect-error in getMany, delete and the atomic view too
    await posts.getMany([['ada', 1], ['ada']])
    // @ts-expect-error too few parts
    await posts.delete(['ada'])
    // @ts-expect-error too few parts
    posts.in(db.atomic()).check(['ada'], null)
    const entry = await posts.get(['ada', 1])
    expectTypeOf(entry.id).toEqualTypeOf<PostId>()
    posts.list({ prefix: ['ada'], start: ['ada', 0], end: ['ada', 9] })
    // @ts-expect-error list bounds are ids
    posts.list({ start: ['ada'] })
    const id: [string, number] = ['ada', 1]
    await posts.get(id)
    const readonlyId = ['ada', 1] as const
    await posts.get(readonlyId)

    const cells = db.collection(['cells'], z.number(), { idParts: 3 })
    expectTypeOf(cells.get).parameter(0).toEqualTypeOf<readonly [KvKeyPart, KvKeyPart, KvKeyPart]>()
    // @ts-expect-error three parts
    await cells.get([1, 2])

    // With a count known only at run time, an id is an array of any length.
    const parts: number = 2
    const loose = db.collection(['loose'], z.number(), { idParts: parts })
    expectTypeOf(loose.get).parameter(0).toEqualTypeOf<readonly KvKeyPart[]>()
    await loose.get(['a', 'b', 'c'])

    // A count the collection refuses at run time (a RangeError) leaves no id to pass.
    expectTypeOf(db.collection(['none'], z.number(), { idParts: 0 }).get).parameter(0).toBeNever()
  })

  it('takes explicit undefined for options, as the collection does at run time', () => {
    const maybe = (): string[] | undefined => undefined
    db.collection(['users'], user, { indexPrefix: maybe(), idParts: undefined, validateOnRead: undefined })
    db.collection(['users'], user).list({ prefix: undefined, start: undefined, end: undefined })
  })

  it('keeps one-part ids as key parts', async () => {
    const one = db.collection(['one'], z.number(), { idParts: 1 })
    expectTypeOf(one.get).parameter(0).toEqualTypeOf<KvKeyPart>()
    const plain = db.collection(['plain'], z.number())
    expectTypeOf(plain.get).parameter(0).toEqualTypeOf<KvKeyPart>()
  })

  it('types indexes declared outside the collection call', async () => {
    const indexes = {
      email: { on: (u: UserOut) => u.email, unique: true },
      age: (u: UserOut) => u.age,
      nickname: { on: (u: UserOut) => u.name, unique: false },
    }
    // `unique: true` widens to boolean here: the index may be unique, so findBy takes it (and listBy, checked at run time).
    const users = db.collection(['users'], user, { indexes })
    expectTypeOf(users.findBy('email', 'ada@example.com')).resolves.toEqualTypeOf<CollectionEntry<UserOut, KvKeyPart> | null>()
    expectTypeOf(users.findBy).parameter(0).toEqualTypeOf<'email' | 'nickname'>()
    expectTypeOf(users.listBy).parameter(0).toEqualTypeOf<'email' | 'age' | 'nickname'>()
    // @ts-expect-error a function index is never unique
    await users.findBy('age', 36)
    // @ts-expect-error the email index holds strings
    await users.findBy('email', 36)

    const exact = { email: { on: (u: UserOut) => u.email, unique: true } } as const
    const byConst = db.collection(['users'], user, { indexes: exact })
    expectTypeOf(byConst.findBy).parameter(0).toEqualTypeOf<'email'>()
    // @ts-expect-error with `as const`, email is known to be unique
    byConst.listBy('email', 'ada@example.com')

    const checked = {
      email: { on: (u) => u.email, unique: true },
      age: (u) => u.age,
    } satisfies IndexDefinitions<UserOut>
    const bySatisfies = db.collection(['users'], user, { indexes: checked })
    expectTypeOf(bySatisfies.findBy).parameter(0).toEqualTypeOf<'email'>()
    expectTypeOf(bySatisfies.listBy).parameter(0).toEqualTypeOf<'age'>()
  })

  it('types findBy and listBy by the index definitions', async () => {
    const users = db.collection(['users'], user, {
      indexes: {
        email: { on: (u) => u.email, unique: true },
        age: (u) => u.age,
        nickname: { on: (u) => (u.name.length > 3 ? u.name : null) },
      },
    })
    expectTypeOf(users.findBy('email', 'ada@example.com')).resolves.toEqualTypeOf<CollectionEntry<UserOut, KvKeyPart> | null>()
    expectTypeOf(users.findBy).parameter(0).toEqualTypeOf<'email'>()
    expectTypeOf(users.listBy).parameter(0).toEqualTypeOf<'age' | 'nickname'>()
    users.listBy('age', 36)
    users.listBy('nickname', 'Ada')
    // @ts-expect-error email is unique: findBy
    users.listBy('email', 'ada@example.com')
    // @ts-expect-error age is not unique: listBy
    await users.findBy('age', 36)
    // @ts-expect-error the email index holds strings
    await users.findBy('email', 36)
    // @ts-expect-error no such index
    users.listBy('missing', 1)
    db.collection(['users'], user, {
      // @ts-expect-error an index computes a key part from the output type
      indexes: { bad: (u) => u.missing },
    })
  })

  it('accepts any Standard Schema, with its input and output types', async () => {
    const trimmed: StandardSchemaV1<string, number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => (typeof value === 'string' ? { value: value.length } : { issues: [{ message: 'not a string' }] }),
      },
    }
    const lengths = db.collection(['lengths'], trimmed)
    await lengths.set('a', 'hello')
    // @ts-expect-error the input is a string
    await lengths.set('a', 5)
    expectTypeOf((await lengths.get('a')).value).toEqualTypeOf<number | null>()
  })

  it('types the atomic view', () => {
    const users = db.collection(['users'], user)
    const op = db.atomic()
    expectTypeOf(users.in(op)).toEqualTypeOf<AtomicCollection<typeof user, KvKeyPart>>()
    expectTypeOf(users.in(op).set('ada', { name: 'Ada', email: 'ada@example.com' }).check('bob', null).delete('eve')).toEqualTypeOf<
      AtomicCollection<typeof user, KvKeyPart>
    >()
  })
})
