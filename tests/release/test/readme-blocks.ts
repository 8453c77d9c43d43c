import { readFileSync } from 'node:fs';

export interface CodeBlock {
  /** The fence's language (`ts`, `js`, `sh`, ...), '' when none. */
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of a Markdown file, in order. */
export function codeBlocks(path: string): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { lang: string; line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = /^```(\S*)\s*$/.exec(text);
    if (!open && fence) open = { lang: fence[1] ?? '', line: i + 1, body: [] };
    else if (open && /^```\s*$/.test(text)) {
      blocks.push({ lang: open.lang, code: `${open.body.join('\n')}\n`, line: open.line });
      open = undefined;
    } else open?.body.push(text);
  });
  return blocks;
}
