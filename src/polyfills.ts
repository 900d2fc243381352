/**
 * `Array.fromAsync` (ES2024) is missing from Node 20, and the documented way to collect a listing is
 * `await Array.fromAsync(db.list(...))`. Importing valkeyrie defines it when, and only when, the runtime lacks it.
 */
type FromAsync = <T, U = T>(
  items: AsyncIterable<T> | Iterable<T | PromiseLike<T>> | ArrayLike<T | PromiseLike<T>>,
  mapFn?: (value: Awaited<T>, index: number) => U,
  thisArg?: unknown,
) => Promise<Awaited<U>[]>

async function fromAsync<T, U>(
  items: AsyncIterable<T> | Iterable<T | PromiseLike<T>> | ArrayLike<T | PromiseLike<T>>,
  mapFn?: (value: Awaited<T>, index: number) => U,
  thisArg?: unknown,
): Promise<unknown[]> {
  if (items == null) throw new TypeError('Array.fromAsync requires an iterable or array-like object')
  if (mapFn !== undefined && typeof mapFn !== 'function') throw new TypeError('Array.fromAsync: mapFn is not a function')
  const out: unknown[] = []
  const push = async (value: unknown): Promise<void> => {
    const awaited = (await value) as Awaited<T>
    out.push(mapFn ? await mapFn.call(thisArg, awaited, out.length) : awaited)
  }
  if (Symbol.asyncIterator in Object(items)) {
    for await (const value of items as AsyncIterable<T>) await push(value)
  } else if (Symbol.iterator in Object(items)) {
    for (const value of items as Iterable<T>) await push(value)
  } else {
    const arrayLike = items as ArrayLike<T>
    for (let i = 0; i < arrayLike.length; i++) await push(arrayLike[i])
  }
  return out
}

const ArrayWithFromAsync = Array as unknown as { fromAsync?: FromAsync }
if (typeof ArrayWithFromAsync.fromAsync !== 'function') {
  Object.defineProperty(Array, 'fromAsync', { value: fromAsync, writable: true, configurable: true, enumerable: false })
}

declare global {
  interface ArrayConstructor {
    fromAsync: FromAsync
  }
}

export {}
