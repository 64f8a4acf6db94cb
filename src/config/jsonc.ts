/**
 * JSON with comments (JSONC), as applications commonly write their config files: `//` line
 * comments and `/* *\/` block comments outside strings. They are replaced by spaces rather than
 * removed, and newlines inside block comments are kept, so every remaining character keeps its
 * offset and every problem found later still points at the right line and column of the file.
 * A lone CR (JSON whitespace, but text to YAML) becomes a space too. The result is JSON, which
 * the YAML parser reads (it also accepts trailing commas).
 */

export type BlankResult = { ok: true; text: string } | { ok: false; offset: number; message: string };

/** `.json` and `.jsonc` files may carry comments; YAML files never go through here (`//` is text in YAML). */
export const isJsonSource = (source: string): boolean => /\.jsonc?$/i.test(source);

/** Newlines stay (CRLF too); everything else, a lone CR included, becomes a space. */
const blank = (s: string): string => s.replace(/\r(?!\n)/g, ' ').replace(/[^\r\n]/g, ' ');

export function blankJsonComments(text: string): BlankResult {
  let out = '';
  let copiedTo = 0; // text[copiedTo..i) is still to be copied unchanged
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    // JSON has only "strings"; 'strings' are YAML's, which the parser also takes, so their
    // contents are protected too (in valid JSONC a ' outside strings can only be in a comment).
    if (ch === '"' || ch === "'") {
      i = stringEnd(text, i);
      continue;
    }
    if (ch === '\r' && text[i + 1] !== '\n') {
      // JSON whitespace; YAML (which parses the result) would take a lone CR as text.
      out += `${text.slice(copiedTo, i)} `;
      copiedTo = ++i;
      continue;
    }
    if (ch !== '/' || (text[i + 1] !== '/' && text[i + 1] !== '*')) {
      i++;
      continue;
    }
    let end: number;
    if (text[i + 1] === '/') {
      end = i + 2;
      while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
    } else {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return { ok: false, offset: i, message: 'comment /* never closes (no */ before the end of the file)' };
      end = close + 2;
    }
    out += text.slice(copiedTo, i) + blank(text.slice(i, end));
    copiedTo = end;
    i = end;
  }
  return { ok: true, text: out + text.slice(copiedTo) };
}

/**
 * Index just past the string starting at `start` (a `"` or `'`; in the latter, `''` is two strings
 * back to back, which protects the same text). An unterminated string ends at the end of its line:
 * JSON strings cannot span lines, and the parser then reports it there.
 */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\' && quote === '"') i += 2;
    else if (ch === quote) return i + 1;
    else if (ch === '\n' || ch === '\r') return i;
    else i++;
  }
  return text.length;
}
