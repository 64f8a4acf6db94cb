/**
 * What a markdown page refers to: the npm scripts, hastate subcommands, repository files and
 * package imports in its code (fenced blocks and inline code), and the targets of its links.
 * The docs test checks that each one exists, so that every command shown runs as written.
 */

export interface Located {
  text: string;
  /** 1-based line of the text's start in the page. */
  line: number;
}

export interface CodeBlock extends Located {
  /** The fence's info string, e.g. `sh` or `ts` ('' when none). */
  info: string;
}

export interface MarkdownParts {
  blocks: CodeBlock[];
  inline: Located[];
  links: Located[];
  /** Heading texts, for `#anchor` links. */
  headings: Located[];
}

export type RefKind = 'npm-script' | 'cli' | 'path' | 'import' | 'link';

export interface Ref {
  kind: RefKind;
  /** Script name, subcommand, repository-relative path, `specifier name`, or link target. */
  value: string;
  line: number;
}

export class MarkdownError extends Error {}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;

/** Splits a page into fenced blocks, inline code spans and link targets. */
export function parseMarkdown(text: string, name: string): MarkdownParts {
  const blocks: CodeBlock[] = [];
  const inline: Located[] = [];
  const links: Located[] = [];
  const headings: Located[] = [];
  const lines = text.split('\n');
  let paragraph: string[] = [];
  let paragraphStart = 0;
  const flush = () => {
    if (paragraph.length > 0) scanProse(paragraph.join('\n'), paragraphStart, inline, links);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open) {
      flush();
      const marker = open[1]!;
      const body: string[] = [];
      let j = i + 1;
      const closes = (l: string) => {
        const m = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(l);
        return m !== null && m[1]![0] === marker[0] && m[1]!.length >= marker.length;
      };
      while (j < lines.length && !closes(lines[j]!)) body.push(lines[j++]!);
      if (j >= lines.length) throw new MarkdownError(`${name}:${i + 1}: code block opened with ${marker} is never closed`);
      blocks.push({ info: open[2]!.toLowerCase(), text: body.join('\n'), line: i + 2 });
      i = j;
      continue;
    }
    if (lines[i]!.trim() === '') {
      flush();
      continue;
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(lines[i]!);
    if (heading) {
      flush();
      headings.push({ text: heading[1]!, line: i + 1 });
      scanProse(lines[i]!, i + 1, inline, links);
      continue;
    }
    if (paragraph.length === 0) paragraphStart = i + 1;
    paragraph.push(lines[i]!);
  }
  flush();
  return { blocks, inline, links, headings };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Inline code spans (a run of n backticks up to the next run of exactly n) and links outside them. */
function scanProse(text: string, firstLine: number, inline: Located[], links: Located[]) {
  const lineAt = (index: number) => firstLine + (text.slice(0, index).match(/\n/g)?.length ?? 0);
  let prose = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '`') {
      prose += text[i++];
      continue;
    }
    let n = 0;
    while (text[i + n] === '`') n++;
    const runs = /`+/g;
    runs.lastIndex = i + n;
    let close: RegExpExecArray | null = null;
    for (let m = runs.exec(text); m !== null; m = runs.exec(text)) {
      if (m[0].length === n) {
        close = m;
        break;
      }
    }
    if (close === null) {
      // An unmatched run is literal text, as in CommonMark.
      prose += text.slice(i, i + n);
      i += n;
      continue;
    }
    const content = text.slice(i + n, close.index).replace(/\n/g, ' ');
    // One space on each side is padding that lets a span start or end with a backtick.
    const trimmed = /^ .* $/.test(content) && content.trim() !== '' ? content.slice(1, -1) : content;
    inline.push({ text: trimmed, line: lineAt(i) });
    prose += ' '.repeat(close.index + n - i);
    i = close.index + n;
  }
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ text: m[1]!, line: lineAt(m.index) });
  }
}

export interface ShellCommand {
  words: string[];
  /** 0-based line of the command's first word within the code. */
  lineOffset: number;
}

/** Words of shell code: quotes group, `&&`, `||`, `|`, `;` and newlines separate commands, `#` starts a comment. */
export function shellCommands(code: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word: string | null = null;
  let lineNo = 0;
  let startLine = 0;
  const endWord = () => {
    if (word !== null) {
      if (words.length === 0) startLine = lineNo;
      words.push(word);
    }
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push({ words, lineOffset: startLine });
    words = [];
  };
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === '\\' && code[i + 1] === '\n') {
      endWord();
      i++;
      lineNo++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = code.indexOf(c, i + 1);
      if (end < 0) {
        word = (word ?? '') + code.slice(i + 1);
        break;
      }
      word = (word ?? '') + code.slice(i + 1, end);
      i = end;
    } else if (c === '#' && word === null) {
      while (i + 1 < code.length && code[i + 1] !== '\n') i++;
    } else if (c === '\n' || c === ';' || c === '|' || (c === '&' && code[i + 1] === '&')) {
      if ((c === '|' || c === '&') && code[i + 1] === c) i++;
      endCommand();
      if (c === '\n') lineNo++;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return commands;
}

export interface RepoFacts {
  /** Top-level names of the repository that are tracked (not ignored), e.g. `src`, `README.md`. */
  topLevel: Set<string>;
}

const SHELL_INFOS = new Set(['', 'sh', 'bash', 'shell', 'console']);
const JS_INFOS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

/** A repository-relative path in a word, or null when the word is not one (URL, absolute path, placeholder, glob). */
export function repoPath(word: string, facts: RepoFacts): string | null {
  const w = word.replace(/^[(]+/, '').replace(/[),.:;]+$/, '').replace(/^\.\//, '');
  if (w === '' || /[*<>{}$]|\.\.\./.test(w) || w.includes('://')) return null;
  if (!/^[A-Za-z0-9_.@-]+(\/[A-Za-z0-9_.@-]+)*\/?$/.test(w)) return null;
  const first = w.split('/')[0]!;
  return facts.topLevel.has(first) ? w : null;
}

/** The references in one piece of shell (a code block or an inline span). */
export function shellRefs(code: string, firstLine: number, facts: RepoFacts): Ref[] {
  const refs: Ref[] = [];
  for (const command of shellCommands(code)) {
    const line = firstLine + command.lineOffset;
    let words = command.words;
    // Prefixes that do not change what runs: sudo (and its options), VAR=value assignments.
    for (;;) {
      if (words[0] === 'sudo') {
        words = words.slice(1);
        while (words[0]?.startsWith('-')) words = words.slice(words[0] === '-u' ? 2 : 1);
      } else if (words[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words = words.slice(1);
      else break;
    }
    const [program, ...args] = words;
    if (program === 'npm') {
      const [sub, ...rest] = args;
      if (sub === 'start' || sub === 'test') refs.push({ kind: 'npm-script', value: sub, line });
      if (sub === 'run' || sub === 'run-script') {
        const script = rest.find((w) => !w.startsWith('-'));
        if (script !== undefined) refs.push({ kind: 'npm-script', value: script, line });
      }
    }
    const cliAt = program === 'npx' && args[0] === 'hastate' ? 1 : program !== undefined && /(^|\/)hastate$/.test(program) ? 0 : -1;
    if (cliAt >= 0) {
      const sub = args[cliAt];
      if (sub !== undefined && !sub.startsWith('-')) refs.push({ kind: 'cli', value: sub, line });
    }
    for (const w of words) {
      const path = repoPath(w, facts);
      if (path !== null) refs.push({ kind: 'path', value: path, line });
    }
  }
  return refs;
}

/** `import { a, type B } from 'hastate/x'` in JavaScript or TypeScript: one ref per value name. */
export function importRefs(code: string, line: number): Ref[] {
  const refs: Ref[] = [];
  for (const m of code.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g)) {
    const specifier = m[3]!;
    if (specifier !== 'hastate' && !specifier.startsWith('hastate/')) continue;
    const at = line + (code.slice(0, m.index).match(/\n/g)?.length ?? 0);
    const names = m[1] ? [] : m[2]!.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('type '));
    refs.push({ kind: 'import', value: specifier, line: at });
    for (const name of names) refs.push({ kind: 'import', value: `${specifier} ${name.split(/\s+as\s+/)[0]!.trim()}`, line: at });
  }
  return refs;
}

/** Every reference in a page. */
export function pageRefs(markdown: string, name: string, facts: RepoFacts): Ref[] {
  const { blocks, inline, links } = parseMarkdown(markdown, name);
  const refs: Ref[] = [];
  for (const block of blocks) {
    if (SHELL_INFOS.has(block.info)) {
      refs.push(...shellRefs(block.text, block.line, facts));
    } else if (JS_INFOS.has(block.info)) {
      refs.push(...importRefs(block.text, block.line));
    }
  }
  for (const span of inline) refs.push(...shellRefs(span.text, span.line, facts));
  for (const link of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link.text)) continue; // http:, mailto: and the like
    refs.push({ kind: 'link', value: link.text, line: link.line });
  }
  return refs;
}
