/**
 * Opening the database a command names. A path is a SQLite file; anything else Valkeyrie.open accepts (a URL) is
 * passed to it as it is. The serializer is the one the database records: opened with `--serializer` or V8 first,
 * and again with the recorded one when that differs and the command line knows it.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { OpenError, SerializerMismatchError } from '../errors.js'
import { Valkeyrie, type ValkeyrieOptions } from '../valkeyrie.js'
import { isKnownSerializer, loadSerializer } from './serializers.js'

/**
 * - `read`: the database must exist, and is opened read-only when it is a file (nothing is written to it);
 * - `write`: the database must exist;
 * - `create`: the database is created when absent.
 */
export type OpenMode = 'read' | 'write' | 'create'

/** A URL (`scheme://...`) rather than a file path. */
export const isUrl = (target: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(target)

export async function openDatabase(target: string, mode: OpenMode, serializerName: string | undefined): Promise<Valkeyrie> {
  const file = !isUrl(target)
  if (file && mode === 'write' && !existsSync(target)) throw new OpenError(resolve(target), 'it does not exist')
  const options: ValkeyrieOptions = { sweepInterval: 0 }
  if (file && mode === 'read') options.readOnly = true
  try {
    return await Valkeyrie.open(target, { ...options, serializer: await loadSerializer(serializerName ?? 'v8') })
  } catch (error) {
    if (!(error instanceof SerializerMismatchError) || serializerName !== undefined || !isKnownSerializer(error.recorded)) throw error
    return Valkeyrie.open(target, { ...options, serializer: await loadSerializer(error.recorded) })
  }
}
