/**
 * The type tests (test/types/*.test-d.ts) run under this project's tsconfig, which sets `exactOptionalPropertyTypes`.
 * Users compile with and without it: this compiles the same files with it off, and expects no error (an unused
 * `@ts-expect-error` is an error too, so the negative cases must still fail).
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const typeTests = fileURLToPath(new URL('.', import.meta.url))

describe('type tests without exactOptionalPropertyTypes', () => {
  it('compile with no error', () => {
    const config = ts.getParsedCommandLineOfConfigFile(`${root}/tsconfig.json`, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      },
    })
    if (!config) throw new Error('tsconfig.json did not parse')
    const files = readdirSync(typeTests)
      .filter((name) => name.endsWith('.test-d.ts'))
      .map((name) => `${typeTests}${name}`)
    expect(files.length).toBeGreaterThan(0)
    const program = ts.createProgram(files, { ...config.options, exactOptionalPropertyTypes: false, noEmit: true })
    const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file?.fileName.slice(root.length) ?? ''
      const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0
      return `${where}:${line} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`
    })
    expect(errors).toEqual([])
  }, 120_000)
})
