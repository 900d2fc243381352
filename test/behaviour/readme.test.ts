/**
 * Runs every ```ts block of README.md as its own module, in a fresh temporary working folder. A block that uses
 * `db` without opening one gets a fresh in-memory database named `db`, closed afterwards.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, it } from 'vitest'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

interface Block {
  line: number
  code: string
}

function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```ts') continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end]?.trim() !== '```') end++
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') })
    i = end
  }
  return blocks
}

const opensOwnDb = (code: string): boolean => /\b(const|let)\s+db\b/.test(code) || /\busing\s+db\b/.test(code)

function moduleSource(code: string): string {
  if (opensOwnDb(code) || !/\bdb\b/.test(code)) return code
  return [
    "import { Valkeyrie as ReadmeValkeyrie } from 'valkeyrie'",
    'const db = await ReadmeValkeyrie.open()',
    'try {',
    code,
    '} finally {',
    '  await db.close()',
    '}',
  ].join('\n')
}

describe('README.md examples', () => {
  const blocks = tsBlocks(README)
  let folder = ''
  let previousCwd = ''

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'valkeyrie-readme-'))
    previousCwd = process.cwd()
  })
  afterAll(() => {
    process.chdir(previousCwd)
    rmSync(folder, { recursive: true, force: true })
  })

  it('has examples to run', () => {
    if (blocks.length < 20) throw new Error(`expected at least 20 ts blocks, found ${blocks.length}`)
  })

  for (const [index, block] of blocks.entries()) {
    it(`runs the example at README.md line ${block.line}`, async () => {
      const cwd = join(folder, `block-${index}`)
      mkdirSync(cwd)
      // Inside the repository, so `valkeyrie` resolves through the test config's alias to the sources.
      const file = new URL(`../../.tmp/readme/block-${process.pid}-${index}.ts`, import.meta.url)
      mkdirSync(new URL('.', file), { recursive: true })
      // Block-scoped imports and top-level await need a module: hoisted imports stay valid after wrapping.
      const source = moduleSource(block.code)
      const imports = source.split('\n').filter((l) => l.startsWith('import '))
      const body = source.split('\n').filter((l) => !l.startsWith('import '))
      writeFileSync(file, [...imports, 'export {}', ...body].join('\n'))
      process.chdir(cwd)
      try {
        await import(pathToFileURL(file.pathname).href)
      } finally {
        process.chdir(previousCwd)
      }
    })
  }
})
