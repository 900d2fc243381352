/** Errors for runtime failures. Caller mistakes are plain `TypeError` / `RangeError`. */

/** Base class of every runtime failure the library reports; the lower-level error is `cause`. */
export class ValkeyrieError extends Error {
  override name = 'ValkeyrieError'
}

/** A method was called on a database that has been closed. */
export class DatabaseClosedError extends ValkeyrieError {
  override name = 'DatabaseClosedError'
  constructor() {
    super('database is closed')
  }
}

/** The database file could not be opened: missing folder, not a database, corrupt, or written by another serializer. */
export class OpenError extends ValkeyrieError {
  override name = 'OpenError'
  readonly path: string
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`cannot open ${path}: ${message}`, options)
    this.path = path
  }
}

/** The storage failed while reading or writing (I/O error, disk full, locked past the busy timeout). */
export class StorageError extends ValkeyrieError {
  override name = 'StorageError'
  constructor(operation: string, options: ErrorOptions) {
    super(`${operation} failed: ${describeCause(options.cause)}`, options)
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

/** A short description of a received value for error messages: `null`, `undefined`, `a Date`, `"abc"`, `5n`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'string':
      return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value)
    case 'number':
    case 'boolean':
      return String(value)
    case 'bigint':
      return `${value}n`
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
    default: {
      if (Array.isArray(value)) return 'an array'
      const name = (value as object).constructor?.name
      return name && name !== 'Object' ? `a ${name}` : 'an object'
    }
  }
}
