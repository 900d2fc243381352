/** Reading a watch stream in tests: the next state with a deadline, or the certainty that none came for a while. */
import type { ReadableStream, ReadableStreamReadResult } from 'node:stream/web'

export interface Follower<T> {
  /** The next state; rejects after `ms` without one, or when the stream ends. */
  next(ms?: number): Promise<T>
  /** Resolves once the stream has ended; rejects if a state comes instead. */
  ended(ms?: number): Promise<void>
  /** Resolves when no state came for `ms`; rejects if one did. */
  nothingFor(ms: number): Promise<void>
  /** Reads states until one satisfies `done`; returns every state read. */
  until(done: (state: T) => boolean, ms?: number): Promise<T[]>
  cancel(): Promise<void>
}

const timeout = <T>(ms: number, what: string): Promise<T> =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms).unref())

export function follow<T>(stream: ReadableStream<T>): Follower<T> {
  const reader = stream.getReader()
  // A read left waiting by nothingFor is the one the next call takes.
  let pending: Promise<ReadableStreamReadResult<T>> | undefined
  const read = (): Promise<ReadableStreamReadResult<T>> => (pending ??= reader.read())
  const take = async (ms: number, what: string): Promise<ReadableStreamReadResult<T>> => {
    const result = await Promise.race([read(), timeout<ReadableStreamReadResult<T>>(ms, what)])
    pending = undefined
    return result
  }
  const follower: Follower<T> = {
    async next(ms = 10_000) {
      const result = await take(ms, 'state')
      if (result.done) throw new Error('the stream ended')
      return result.value
    },
    async ended(ms = 10_000) {
      const result = await take(ms, 'end')
      if (!result.done) throw new Error(`a state came instead of the end: ${JSON.stringify(result.value, replacer)}`)
    },
    async nothingFor(ms) {
      const came = await Promise.race([read().then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), ms))])
      if (came) throw new Error(`a state came: ${JSON.stringify((await read()).value, replacer)}`)
    },
    async until(done, ms = 30_000) {
      const states: T[] = []
      const deadline = Date.now() + ms
      for (;;) {
        const state = await follower.next(Math.max(1, deadline - Date.now()))
        states.push(state)
        if (done(state)) return states
      }
    },
    cancel: () => reader.cancel(),
  }
  return follower
}

const replacer = (_: string, value: unknown): unknown => (typeof value === 'bigint' ? `${value}n` : value)
