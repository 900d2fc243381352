/** A stream's values mapped one by one, pulled through: nothing is read from `source` before the reader asks. */
import { ReadableStream } from 'node:stream/web'

export function mapStream<A, B>(source: ReadableStream<A>, map: (value: A) => B | Promise<B>): ReadableStream<B> {
  const reader = source.getReader()
  return new ReadableStream<B>(
    {
      async pull(controller) {
        const next = await reader.read()
        if (next.done) controller.close()
        else controller.enqueue(await map(next.value))
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}
