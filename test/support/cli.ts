/**
 * The built command line, run as a process: the package is compiled (JavaScript only, unchecked: type checking is
 * `tsc --noEmit`'s job) into a temporary folder laid out as the published package, and `dist/cli/main.js` runs
 * there with node, as `npx valkeyrie` runs it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface BuiltCli {
  /** Runs `valkeyrie ...args` in `cwd`, with `input` on stdin (stdin is empty, not a terminal, by default). */
  run(args: readonly string[], options?: { input?: string | Buffer; cwd?: string }): CliResult
  /** The package folder. */
  folder: string
  /** The built `dist/cli/main.js`. */
  main: string
  remove(): void
}

/** Builds the package into a temporary folder; call `remove()` when done. */
export function buildCli(): BuiltCli {
  const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-cli-'))
  execFileSync(
    process.execPath,
    [
      join(REPO, 'node_modules/typescript/bin/tsc'),
      ...['-p', 'tsconfig.build.json', '--outDir', join(folder, 'dist'), '--noCheck'],
      ...['--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'],
    ],
    { cwd: REPO, stdio: 'pipe' },
  )
  cpSync(join(REPO, 'package.json'), join(folder, 'package.json'))
  cpSync(join(REPO, 'drizzle'), join(folder, 'drizzle'), { recursive: true })
  symlinkSync(join(REPO, 'node_modules'), join(folder, 'node_modules'), 'dir')
  const main = join(folder, 'dist/cli/main.js')
  mkdirSync(join(folder, 'work'))
  return {
    folder,
    main,
    run(args, options = {}) {
      const result = spawnSync(process.execPath, [main, ...args], {
        cwd: options.cwd ?? join(folder, 'work'),
        input: options.input ?? '',
        maxBuffer: 1024 * 1024 * 1024,
      })
      return { code: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') }
    },
    remove: () => rmSync(folder, { recursive: true, force: true }),
  }
}
