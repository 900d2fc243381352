import type { ReadableStream } from 'node:stream/web'
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import type { CollectionEntryMaybe, KvEntryMaybe, KvKeyPart, Valkeyrie } from '../../src/index.js'

declare const db: Valkeyrie

describe('watch types', () => {
  it('types the entries of db.watch by its type argument, one slot per key', async () => {
    const stream = db.watch<[{ theme: string }, number]>([['config'], ['count']])
    expectTypeOf(stream).toEqualTypeOf<ReadableStream<[KvEntryMaybe<{ theme: string }>, KvEntryMaybe<number>]>>()
    for await (const [config, count] of stream) {
      expectTypeOf(config.value).toEqualTypeOf<{ theme: string } | null>()
      expectTypeOf(count.value).toEqualTypeOf<number | null>()
    }
    expectTypeOf(db.watch([['a']])).toEqualTypeOf<ReadableStream<KvEntryMaybe<unknown>[]>>()
    // @ts-expect-error raw is a boolean
    db.watch([['a']], { raw: 'yes' })
  })

  it('types a collection watch by the schema output and the id', async () => {
    const users = db.collection(['users'], z.object({ name: z.string(), age: z.number().default(0) }))
    type User = { name: string; age: number }
    expectTypeOf(users.watch('ada')).toEqualTypeOf<ReadableStream<CollectionEntryMaybe<User, KvKeyPart>>>()
    expectTypeOf(users.watchMany(['ada', 'bob'])).toEqualTypeOf<ReadableStream<CollectionEntryMaybe<User, KvKeyPart>[]>>()
    for await (const user of users.watch('ada')) {
      expectTypeOf(user.value).toEqualTypeOf<User | null>()
      if (user.versionstamp !== null) expectTypeOf(user.value).toEqualTypeOf<User>()
    }
    const pairs = db.collection(['pairs'], z.object({ n: z.number() }), { idParts: 2 })
    expectTypeOf(pairs.watch).parameter(0).toEqualTypeOf<readonly [KvKeyPart, KvKeyPart]>()
    // @ts-expect-error a record of this collection has no `title`
    for await (const user of users.watch('ada')) void user.value?.title
  })
})
