/**
 * The package as users run it: the compiled `dist/` (`npm run bench` builds it first), for both contenders, so
 * neither pays for the TypeScript loader's wrappers and both use the very same key codec.
 *
 * `VALKEYRIE_BENCH_DIST` (set by the driver for the `valkeyrie@base` contender, see contenders.ts) points at
 * another build, such as the `dist/` of a checkout of an earlier commit, to measure before and after in one run.
 */
import { pathToFileURL } from 'node:url'

const override = process.env['VALKEYRIE_BENCH_DIST']
const DIST = override ? pathToFileURL(override.endsWith('/') ? override : `${override}/`) : new URL('../dist/', import.meta.url)

async function load<T>(path: string): Promise<T> {
  try {
    return (await import(new URL(path, DIST).href)) as T
  } catch (error) {
    throw new Error(`cannot load ${new URL(path, DIST).pathname}: run 'npm run build' first (npm run bench does)`, {
      cause: error,
    })
  }
}

export const valkeyrie = await load<typeof import('../src/index.js')>('index.js')
export const keyCodec = await load<typeof import('../src/key/codec.js')>('key/codec.js')
