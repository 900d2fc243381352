/**
 * The package as users run it: the compiled `dist/` (`npm run bench` builds it first), for both contenders, so
 * neither pays for the TypeScript loader's wrappers and both use the very same key codec.
 */
const DIST = new URL('../dist/', import.meta.url)

async function load<T>(path: string): Promise<T> {
  try {
    return (await import(new URL(path, DIST).href)) as T
  } catch (error) {
    throw new Error(`cannot load dist/${path}: run 'npm run build' first (npm run bench does)`, { cause: error })
  }
}

export const valkeyrie = await load<typeof import('../src/index.js')>('index.js')
export const keyCodec = await load<typeof import('../src/key/codec.js')>('key/codec.js')
