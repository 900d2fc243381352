import { serialize as v8Serialize } from 'node:v8'
import { expect, it } from 'vitest'
import {
  CorruptValueError,
  jsonSerializer,
  KvU64,
  type Serializer,
  StorageError,
  v8Serializer,
  type Valkeyrie,
} from '../../src/index.js'
import { bsonSerializer } from '../../src/serializers/bson.js'
import { cborXSerializer } from '../../src/serializers/cbor-x.js'
import { msgpackrSerializer } from '../../src/serializers/msgpackr.js'
import { type Backend, describeBackends, type RawRows } from '../support/backends.js'
import { rejection } from '../support/open-test-db.js'

const SERIALIZERS: Serializer[] = [v8Serializer, jsonSerializer, bsonSerializer, msgpackrSerializer, cborXSerializer]
const MARKER = { marker: 'to be corrupted', list: [1, 2, 3] }

/** Writes ['a'], ['b'] (then overwritten in the kv table by `corrupt`) and ['c'], and reopens the database. */
async function corruptB(
  backend: Backend,
  serializer: Serializer,
  corrupt: (raw: RawRows, marker: Buffer) => Promise<void>,
): Promise<Valkeyrie> {
  const place = backend.create()
  const db = await place.openOwn({ serializer })
  await db.set(['a'], 'first')
  await db.set(['b'], MARKER)
  await db.set(['c'], 'third')
  await db.close()
  const marker = Buffer.from(serializer.serialize(MARKER))
  await corrupt(place.raw as RawRows, marker)
  return place.open({ serializer })
}

const setRow = async (raw: RawRows, marker: Buffer, value: Buffer, encoding = 1) => {
  expect(await raw.replaceValue(marker, value, encoding)).toBe(1)
}

async function expectCorruptB(db: Valkeyrie, cause: RegExp | (new (...args: never[]) => Error)) {
  const error = await rejection(db.get(['b']))
  expect(error).toBeInstanceOf(CorruptValueError)
  expect(error).toBeInstanceOf(StorageError)
  expect(error.name).toBe('CorruptValueError')
  expect((error as CorruptValueError).key).toEqual(['b'])
  expect(error.message).toMatch(/^value at \["b"\] cannot be decoded: /)
  if (cause instanceof RegExp) expect((error.cause as Error).message).toMatch(cause)
  else expect(error.cause).toBeInstanceOf(cause)
  const many = await rejection(db.getMany([['a'], ['b']]))
  expect(many).toBeInstanceOf(CorruptValueError)
  expect((many as CorruptValueError).key).toEqual(['b'])
}

describeBackends('corrupt stored values', (backend) => {
  const withCorruptB = (serializer: Serializer, corrupt: (raw: RawRows, marker: Buffer) => Promise<void>) =>
    corruptB(backend, serializer, corrupt)

  for (const serializer of SERIALIZERS) {
    it(`${serializer.name}: a truncated value is a CorruptValueError naming the key, and the key can be deleted`, async () => {
      const db = await withCorruptB(serializer, (raw, marker) => setRow(raw, marker, marker.subarray(0, marker.length - 3)))
      await expectCorruptB(db, Error)
      expect((await db.get(['a'])).value).toBe('first')
      await db.delete(['b'])
      expect(await db.get(['b'])).toEqual({ key: ['b'], value: null, versionstamp: null })
      expect((await Array.fromAsync(db.list({ prefix: [] }))).map((e) => e.key)).toEqual([['a'], ['c']])
    })
  }

  it('list throws CorruptValueError at the bad entry; its cursor is past it, so a listing resumes after it, both ways', async () => {
    const db = await withCorruptB(v8Serializer, (raw, marker) => setRow(raw, marker, Buffer.from('garbage')))
    for (const reverse of [false, true]) {
      const seen: unknown[] = []
      const iterator = db.list({ prefix: [] }, { reverse, batchSize: 1 })
      const error = await rejection((async () => {
        for await (const entry of iterator) seen.push(entry.key)
      })())
      expect(error).toBeInstanceOf(CorruptValueError)
      expect((error as CorruptValueError).key).toEqual(['b'])
      expect(seen).toEqual(reverse ? [['c']] : [['a']])
      const rest = await Array.fromAsync(db.list({ prefix: [] }, { reverse, cursor: iterator.cursor }))
      expect(rest.map((e) => e.key)).toEqual(reverse ? [['a']] : [['c']])
    }
    // Called by hand, the same iterator also goes on after the bad entry.
    const iterator = db.list({ prefix: [] })
    expect((await iterator.next()).value?.key).toEqual(['a'])
    await expect(iterator.next()).rejects.toThrow(CorruptValueError)
    expect((await iterator.next()).value?.key).toEqual(['c'])
    expect((await iterator.next()).done).toBe(true)
  })

  it('a KvU64 row whose value is not 8 bytes is corrupt', async () => {
    for (const bytes of [Buffer.of(1, 2, 3), Buffer.alloc(9, 1), Buffer.alloc(0)]) {
      const db = await withCorruptB(v8Serializer, (raw, marker) => setRow(raw, marker, bytes, 2))
      await expectCorruptB(db, new RegExp(`a KvU64 is stored as 8 bytes: found ${bytes.length}`))
    }
  })

  it('a sum on a corrupt KvU64 row fails that commit alone with CorruptValueError, writing nothing', async () => {
    const db = await withCorruptB(v8Serializer, (raw, marker) => setRow(raw, marker, Buffer.of(1, 2, 3), 2))
    const [bad, good] = await Promise.allSettled([
      db.atomic().sum(['b'], 1n).set(['d'], 'same commit').commit(),
      db.atomic().sum(['counter'], 1n).commit(),
    ])
    expect(bad.status).toBe('rejected')
    const error = (bad as PromiseRejectedResult).reason as CorruptValueError
    expect(error).toBeInstanceOf(CorruptValueError)
    expect(error.key).toEqual(['b'])
    expect(good.status).toBe('fulfilled')
    expect((await db.get(['d'])).versionstamp).toBeNull()
    expect((await db.get<KvU64>(['counter'])).value?.value).toBe(1n)
  })

  it('a row with an unknown encoding is corrupt', async () => {
    const db = await withCorruptB(v8Serializer, (raw, marker) => setRow(raw, marker, marker, 7))
    await expectCorruptB(db, /unknown value encoding 7/)
  })

  it('a value nested too deep to read back (written by an older version) is corrupt, not a crash', async () => {
    // V8's bytes for {a: {a: ... 1 ...}}, 30,000 levels deep: a header, then "begin object, key a" per level, the
    // number, and "end object, 1 property" per level. Built by hand, as V8 itself cannot write it.
    const depth = 30_000
    const head = v8Serialize(1).subarray(0, 2)
    const bytes = Buffer.concat([
      head,
      Buffer.from('6f220161'.repeat(depth), 'hex'),
      Buffer.from('4902', 'hex'),
      Buffer.from('7b01'.repeat(depth), 'hex'),
    ])
    const db = await withCorruptB(v8Serializer, (raw, marker) => setRow(raw, marker, bytes))
    await expectCorruptB(db, RangeError)
    expect((await db.get(['c'])).value).toBe('third')
  })

  it('a good KvU64 still reads back', async () => {
    const db = await backend.open()
    await db.set(['n'], new KvU64(7n))
    expect(((await db.get(['n'])).value as KvU64).value).toBe(7n)
  })

  it('json: a tag whose payload toJson would never write is corrupt, found in time proportional to its size', async () => {
    const rows = [
      '{"$$":"Buffer","v":{"length":1e8}}', // once: 34 bytes that allocated 100 MB over seconds
      '{"$$":"Uint8Array","v":{"length":1e8}}',
      '{"$$":"ArrayBuffer","v":[1,2]}',
      '{"$$":"Uint8Array","v":"not base64!"}',
      '{"$$":"Buffer","v":"AA==","x":1}',
      '{"$$":"bigint","v":"1e9"}',
      '{"$$":"bigint","v":12}',
      '{"$$":"number","v":"12"}',
      '{"$$":"Date","v":5}',
      '{"$$":"Date","v":"2020-01-01"}',
      '{"$$":"RegExp","v":"a"}',
      '{"$$":"RegExp","v":{"source":"a","flags":"q"}}',
      '{"$$":"Map","v":[[1]]}',
      '{"$$":"Map","v":"ab"}',
      '{"$$":"Set","v":{"length":3}}',
      '{"$$":"object","v":[1]}',
      '{"$$":"object","v":{"a":1}}',
      '{"$$":"undefined","v":1}',
      '{"$$":7}',
      '{"$$":"Symbol","v":"s"}',
    ]
    for (const row of rows) {
      const db = await withCorruptB(jsonSerializer, (raw, marker) => setRow(raw, marker, Buffer.from(row)))
      const started = performance.now()
      const error = await rejection(db.get(['b']))
      expect(error, row).toBeInstanceOf(CorruptValueError)
      expect((error.cause as Error).message, row).toMatch(/^the json serializer found (a malformed|an unknown tag)|^Invalid flags/)
      expect(performance.now() - started, row).toBeLessThan(100)
    }
  })

  it('binary serializers: a length header claiming far more than the row holds is corrupt, found at once', async () => {
    const rows: [Serializer, string][] = [
      [msgpackrSerializer, 'ddffffffff01'], // array of 2^32-1 elements
      [msgpackrSerializer, 'dfffffffff'], // map of 2^32-1 entries
      [msgpackrSerializer, 'dbffffffff61'], // string of 4 GB
      [msgpackrSerializer, 'c6ffffffff61'], // binary of 4 GB
      [cborXSerializer, '9bffffffffffffffff01'], // array of 2^64-1 elements
      [cborXSerializer, '9a05f5e10001'], // array of 10^8 elements
      [cborXSerializer, 'baffffffff01'], // map of 2^32-1 entries
      [cborXSerializer, '5affffffff01'], // byte string of 4 GB
      [cborXSerializer, 'd901029affffffff'], // Set (tag 258) of 2^32-1 elements
      [bsonSerializer, 'ffffff7f0000'], // document of 2 GB
      [bsonSerializer, '11000000027600ffffff7f61000000'], // string of 2 GB
      [bsonSerializer, '11000000057600ffffff7f0061000000'], // binary of 2 GB
    ]
    for (const [serializer, hex] of rows) {
      const db = await withCorruptB(serializer, (raw, marker) => setRow(raw, marker, Buffer.from(hex, 'hex')))
      const started = performance.now()
      expect(await rejection(db.get(['b'])), hex).toBeInstanceOf(CorruptValueError)
      expect(performance.now() - started, hex).toBeLessThan(1000)
    }
  })
}, (backend) => backend.rows)
