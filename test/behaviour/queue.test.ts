import { expect, it } from 'vitest'
import type { Valkeyrie } from '../../src/index.js'
import { describeBackends } from '../support/backends.js'

/** Resolves once `condition()` holds, polling; fails after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const quiet = { onError: () => {} }

describeBackends('queue', (backend) => {
  it('delivers enqueued values to the listener, ready-time order then enqueue order', async () => {
    const db = await backend.open()
    for (let i = 0; i < 20; i++) await db.enqueue({ n: i })
    const got: number[] = []
    void db.listenQueue<{ n: number }>((v) => {
      got.push(v.n)
    })
    await until(() => got.length === 20)
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    // Enqueued while listening: woken at once.
    const started = Date.now()
    await db.enqueue({ n: 20 })
    await until(() => got.length === 21)
    expect(Date.now() - started).toBeLessThan(500)
  })

  it('never hands a delayed message out before its time', async () => {
    const db = await backend.open()
    const seen: { v: string; at: number }[] = []
    void db.listenQueue<string>((v) => {
      seen.push({ v, at: Date.now() })
    })
    const start = Date.now()
    await db.enqueue('late', { delay: 300 })
    await db.enqueue('early', { delay: 50 })
    await db.enqueue('now')
    await until(() => seen.length === 3)
    expect(seen.map((s) => s.v)).toEqual(['now', 'early', 'late'])
    expect(seen[1]!.at - start).toBeGreaterThanOrEqual(50)
    expect(seen[2]!.at - start).toBeGreaterThanOrEqual(300)
  })

  it('retries a failing handler after each backoff step, then writes the value to keysIfUndelivered', async () => {
    const db = await backend.open()
    const attempts: number[] = []
    const errors: unknown[] = []
    void db.listenQueue(
      (v) => {
        attempts.push(Date.now())
        if (v === 'bad') throw new Error('handler failed')
      },
      { onError: (e) => errors.push(e) },
    )
    const start = Date.now()
    await db.enqueue('bad', { backoffSchedule: [50, 150], keysIfUndelivered: [['dead', 1], ['dead', 2]] })
    await until(async () => (await db.get(['dead', 2])).value !== null)
    expect(attempts).toHaveLength(3)
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(45)
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(145)
    expect(errors).toHaveLength(3)
    expect((errors[0] as Error).message).toBe('handler failed')
    expect((await db.get(['dead', 1])).value).toBe('bad')
    expect(Date.now() - start).toBeGreaterThanOrEqual(200)
    // The message is gone: nothing more is delivered.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(attempts).toHaveLength(3)
  })

  it('retries a rejected promise and stops retrying once the handler succeeds', async () => {
    const db = await backend.open()
    let calls = 0
    void db.listenQueue(async () => {
      calls++
      if (calls < 3) throw new Error('not yet')
    }, quiet)
    await db.enqueue('x', { backoffSchedule: [10, 10, 10, 10], keysIfUndelivered: [['dead']] })
    await until(() => calls === 3)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(calls).toBe(3)
    expect((await db.get(['dead'])).value).toBeNull()
  })

  it('atomic().enqueue enqueues only when the commit succeeds, with its versionstamp', async () => {
    const db = await backend.open()
    await db.set(['k'], 1)
    const failed = await db.atomic().check({ key: ['k'], versionstamp: null }).enqueue('never').set(['x'], 1).commit()
    expect(failed.ok).toBe(false)
    const ok = await db.atomic().check({ key: ['x'], versionstamp: null }).set(['x'], 2).enqueue('yes').enqueue('also').commit()
    expect(ok.ok).toBe(true)
    const got: string[] = []
    void db.listenQueue<string>((v) => {
      got.push(v)
    })
    await until(() => got.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(got).toEqual(['yes', 'also'])
    // Queue messages are no entries.
    expect(await Array.fromAsync(db.list({ prefix: [] }))).toHaveLength(2)
  })

  it('refuses bad input with TypeError or RangeError before writing anything', async () => {
    const db = await backend.open()
    await expect(db.enqueue(1, { delay: -1 })).rejects.toThrow(RangeError)
    await expect(db.enqueue(1, { delay: 30 * 24 * 3600 * 1000 + 1 })).rejects.toThrow(RangeError)
    await expect(db.enqueue(1, { delay: 1.5 })).rejects.toThrow(TypeError)
    await expect(db.enqueue(1, { delay: '1' as unknown as number })).rejects.toThrow(TypeError)
    await expect(db.enqueue(1, { keysIfUndelivered: Array.from({ length: 11 }, (_, i) => [i]) })).rejects.toThrow(RangeError)
    await expect(db.enqueue(1, { keysIfUndelivered: [[{}] as never] })).rejects.toThrow(TypeError)
    await expect(db.enqueue(1, { backoffSchedule: [1, 2, 3, 4, 5, 6] })).rejects.toThrow(RangeError)
    await expect(db.enqueue(1, { backoffSchedule: [3_600_001] })).rejects.toThrow(RangeError)
    await expect(db.enqueue(1, { backoffSchedule: [-1] })).rejects.toThrow(RangeError)
    await expect(db.enqueue(1, { nope: 1 } as never)).rejects.toThrow(TypeError)
    await expect(db.enqueue(new Uint8Array(70_000))).rejects.toThrow(RangeError)
    expect(() => db.atomic().enqueue(1, { delay: -5 })).toThrow(RangeError)
    await expect(db.listenQueue('no' as never)).rejects.toThrow(TypeError)
    const got: unknown[] = []
    void db.listenQueue((v) => {
      got.push(v)
    })
    await expect(db.listenQueue(() => {})).rejects.toThrow(TypeError)
    await db.enqueue('only')
    await until(() => got.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(got).toEqual(['only'])
  })

  it('close() ends listenQueue, waits for the running handler, and leaves the queue for the next open', async () => {
    const place = backend.create()
    const db = await place.openOwn()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let finished = 0
    const ended = db.listenQueue(async () => {
      await gate
      finished++
    })
    await db.enqueue('running')
    await until(() => true)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await db.enqueue('waiting', { delay: 60_000 })
    const closing = db.close()
    setTimeout(release, 50)
    await closing
    await ended
    expect(finished).toBe(1)
    await expect(db.enqueue('late')).rejects.toThrow('closed')
    if (!backend.persistent) return
    const again = await place.open({ clock: () => Date.now() + 61_000 })
    const got: unknown[] = []
    void again.listenQueue((v) => {
      got.push(v)
    })
    await until(() => got.length === 1)
    expect(got).toEqual(['waiting'])
  })

  it('close() lets a running handler write to the database, and acknowledges its message', async () => {
    const place = backend.create()
    const db = await place.openOwn()
    const errors: unknown[] = []
    let started!: () => void
    const running = new Promise<void>((resolve) => (started = resolve))
    const ended = db.listenQueue(
      async (job) => {
        started()
        await new Promise((resolve) => setTimeout(resolve, 100))
        await db.set(['done', job as string], true)
      },
      { onError: (error) => errors.push(error) },
    )
    await db.enqueue('job', { backoffSchedule: [], keysIfUndelivered: [['dead', 'job']] })
    await running
    await db.close()
    await ended
    expect(errors).toEqual([])
    if (!backend.persistent) return
    const again = await place.open()
    expect((await again.get(['done', 'job'])).value).toBe(true)
    expect((await again.get(['dead', 'job'])).value).toBeNull()
    const got: unknown[] = []
    void again.listenQueue((v) => {
      got.push(v)
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(got).toEqual([])
  })

  it('delivers after a restart what was enqueued before it', async () => {
    if (!backend.persistent) return
    const place = backend.create()
    const first = await place.openOwn()
    for (let i = 0; i < 5; i++) await first.enqueue(i)
    await first.close()
    const db = await place.open()
    const got: unknown[] = []
    void db.listenQueue((v) => {
      got.push(v)
    })
    await until(() => got.length === 5)
    expect(got).toEqual([0, 1, 2, 3, 4])
  })

  it('shares messages between two listeners on one database, each handled once', async () => {
    if (!backend.persistent) return
    const place = backend.create()
    const a = await place.open()
    const b = await place.open()
    const seen = new Map<number, number>()
    const handler = (v: unknown) => {
      seen.set(v as number, (seen.get(v as number) ?? 0) + 1)
    }
    void a.listenQueue(handler)
    void b.listenQueue(handler)
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).enqueue(i)))
    await until(() => seen.size === 200)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
  })
})

export type { Valkeyrie }
