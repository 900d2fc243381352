import { expectTypeOf, test } from 'vitest'
import {
  type AtomicOperation,
  CorruptValueError,
  type KvKey,
  StorageError,
  type KvCommitError,
  type KvCommitResult,
  type KvEntry,
  type KvEntryMaybe,
  type KvListIterator,
  KvU64,
  Valkeyrie,
} from '../../src/index.js'

test('reads are typed by the type parameter', async () => {
  const db = await Valkeyrie.open()
  expectTypeOf(await db.get<{ name: string }>(['users', 'ada'])).toEqualTypeOf<KvEntryMaybe<{ name: string }>>()
  const entry = await db.get<number>(['n'])
  if (entry.versionstamp !== null) expectTypeOf(entry.value).toEqualTypeOf<number>()
  else expectTypeOf(entry.value).toEqualTypeOf<null>()
  expectTypeOf(db.list<string>({ prefix: ['a'] })).toEqualTypeOf<KvListIterator<string>>()
  for await (const e of db.list<string>({ prefix: ['a'] })) expectTypeOf(e).toEqualTypeOf<KvEntry<string>>()
  expectTypeOf(db.list({ prefix: [] }).cursor).toEqualTypeOf<string>()
})

test('writes and commits return their documented results', async () => {
  const db = await Valkeyrie.open()
  expectTypeOf(await db.set(['k'], 1)).toEqualTypeOf<KvCommitResult>()
  expectTypeOf(await db.delete(['k'])).toEqualTypeOf<void>()
  expectTypeOf(db.atomic()).toEqualTypeOf<AtomicOperation>()
  expectTypeOf(await db.atomic().sum(['c'], 1n).min(['c'], new KvU64(1n)).commit()).toEqualTypeOf<
    KvCommitResult | KvCommitError
  >()
})

test('a CorruptValueError is a StorageError that carries the key', () => {
  expectTypeOf<CorruptValueError>().toMatchTypeOf<StorageError>()
  expectTypeOf<CorruptValueError['key']>().toEqualTypeOf<KvKey>()
  expectTypeOf(new CorruptValueError(['a'], { cause: new Error('x') })).toEqualTypeOf<CorruptValueError>()
  // @ts-expect-error a list option that does not exist
  void (null as unknown as Valkeyrie).list({ prefix: [] }, { limt: 2 })
})

test('misuse does not compile', async () => {
  const db = await Valkeyrie.open()
  // @ts-expect-error a key is an array of parts
  await db.get('users')
  // @ts-expect-error null is not a key part
  await db.set(['a', null], 1)
  // @ts-expect-error sum takes a bigint or a KvU64
  db.atomic().sum(['c'], 1)
  // @ts-expect-error expireIn is a number
  await db.set(['a'], 1, { expireIn: '10' })
  // @ts-expect-error a list selector needs a prefix, or start and end
  db.list({ start: ['a'] })
})
