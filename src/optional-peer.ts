/** Loading an optional peer dependency: a serializer's (`bson`, `msgpackr`, `cbor-x`) or the PostgreSQL driver's (`pg`). */
import { ValkeyrieError } from './errors.js'

/** True when `error` says that `name` itself, not something it imports, could not be found. */
function isMissingPackage(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`))
}

/**
 * Awaits `load()`, an `import()` of the peer package `name` that `neededBy` (as a message names it) needs. When the
 * package is not installed, throws a `ValkeyrieError` naming it and the command that installs it; any other
 * failure is rethrown as it is.
 */
export async function loadOptionalPeer<T>(name: string, neededBy: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    if (!isMissingPackage(error, name)) throw error
    throw new ValkeyrieError(
      `${neededBy} needs the ${name} package, which is not installed: run npm install ${name} (or pnpm add ${name}, yarn add ${name})`,
      { cause: error },
    )
  }
}
