/**
 * Runs every ```ts block of README.md and of the pages in docs/ as its own module, in a fresh temporary working
 * folder. A block that uses `db` without opening one gets a fresh in-memory database named `db`, closed afterwards.
 * A block marked ```ts no-run is shown, not run (each is preceded by a comment saying why).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url)
const docsFolder = new URL('docs/', ROOT)
const pages = [
  'README.md',
  ...readdirSync(docsFolder)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
]

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

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, `-1`, `-2` for repeats. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>()
  const counts = new Map<string, number>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line)
    if (!heading) continue
    const slug = (heading[1] as string).trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')
    const seen = counts.get(slug) ?? 0
    counts.set(slug, seen + 1)
    found.add(seen === 0 ? slug : `${slug}-${seen}`)
  }
  return found
}

it('links only to files and headings that exist', () => {
  const broken: string[] = []
  for (const page of pages) {
    const text = readFileSync(new URL(page, ROOT), 'utf8').replace(/```[\s\S]*?```/g, '')
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue
      const [file, anchor] = (target as string).split('#') as [string, string | undefined]
      const dest = file === '' ? new URL(page, ROOT) : new URL(file, new URL(page, ROOT))
      if (!existsSync(dest)) {
        broken.push(`${page}: ${target}`)
        continue
      }
      if (anchor && !anchors(readFileSync(dest, 'utf8')).has(anchor)) broken.push(`${page}: ${target}`)
    }
  }
  expect(broken).toEqual([])
})

it('finds examples to run in README.md and docs/', () => {
  const total = pages.reduce((sum, page) => sum + tsBlocks(readFileSync(new URL(page, ROOT), 'utf8')).length, 0)
  expect(total).toBeGreaterThanOrEqual(20)
})

for (const page of pages) {
  const blocks = tsBlocks(readFileSync(new URL(page, ROOT), 'utf8'))
  if (blocks.length === 0) continue
  describe(`${page} examples`, () => {
    const slug = page.replace(/[^\w]+/g, '-')
    for (const [index, block] of blocks.entries()) {
      it(`runs the example at ${page} line ${block.line}`, async () => {
        const cwd = join(folder, `${slug}-${index}`)
        mkdirSync(cwd)
        // Inside the repository, so `valkeyrie` resolves through the test config's alias to the sources.
        const file = new URL(`.tmp/readme/${slug}-${process.pid}-${index}.ts`, ROOT)
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
}
