/** One fenced TypeScript block of a Markdown page. */
export interface Snippet {
  /** The page, relative to the repository root (`docs/error-model.md`). */
  readonly page: string;
  /** 1-based line of the block's first line of code in the page. */
  readonly line: number;
  /** The code. */
  readonly code: string;
}

/** The info string of a block that shows another framework's code: shown, never typechecked. */
export const PEER_FENCE = 'ts peer';

/**
 * The ```` ```ts ```` blocks of a Markdown page, in order, except ```` ```ts peer ```` blocks
 * (another framework's code, in the migration guides). Each block is typechecked as a module of
 * its own (docs/test/snippets.test.ts), so it must import what it uses.
 *
 * @example
 * const snippets = extractSnippets('docs/error-model.md', readFileSync('docs/error-model.md', 'utf8'));
 */
export function extractSnippets(page: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  let open: { line: number; checked: boolean; code: string[] } | undefined;
  lines.forEach((text, i) => {
    if (open === undefined) {
      const fence = /^```(\S*)(?:\s+(.*))?$/.exec(text);
      if (fence && fence[1] !== '') {
        const checked = fence[1] === 'ts' && (fence[2] ?? '').trim() !== 'peer';
        open = { line: i + 2, checked, code: [] };
      }
      return;
    }
    if (text === '```') {
      if (open.checked) out.push({ page, line: open.line, code: open.code.join('\n') });
      open = undefined;
      return;
    }
    open.code.push(text);
  });
  return out;
}
