/**
 * Reading one configuration document: a file from disk (bounded, UTF-8), parsed as YAML, or as
 * JSON with comments for `.json`/`.jsonc` names, with every position kept for problems; then
 * walked (walk.ts). Nothing here knows any key.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, Parser } from 'yaml';
import type { Document } from 'yaml';
import type { Collector } from './collector.ts';
import type { KeySet } from './key-set.ts';
import { blankJsonComments, isJsonSource } from './jsonc.ts';
import { yamlValue } from './views.ts';
import { walkConfig, type Here, type Placement } from './walk.ts';

// Limits, so that no input can make loading slow, huge or crash the process.
/** 256 KiB: ~100x any real config; worst case parses (twice: depth pre-check + parseDocument) in ~1 s. */
export const MAX_FILE_BYTES = 256 * 1024;
/** Collections nested deeper than this are refused before the YAML composer (which recurses) sees them. */
export const MAX_NESTING = 64;
/** YAML errors beyond this many are summarised in one extra problem. */
export const MAX_YAML_ERRORS = 20;

export function readConfigFile(file: string, c: Collector): string | undefined {
  const at = { source: file, key: '(file)' };
  c.fileOk = false;
  let buf: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_FILE_BYTES) {
      c.problem(at, `file too large (${size} bytes; the limit is ${MAX_FILE_BYTES})`);
      return undefined;
    }
    buf = readFileSync(file);
  } catch (err) {
    c.problem(at, `cannot read file: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    c.fileOk = true;
    return text;
  } catch {
    c.problem(at, 'file is not valid UTF-8');
    return undefined;
  }
}

/** A YAML or JSON(C) document: parsed with positions, then walked. */
export function readDocument(input: string, source: string, place: Placement, keys: KeySet, c: Collector): void {
  const parsed = parseText(input, source, c);
  if (parsed) walkConfig(yamlValue(parsed.doc.contents, parsed.doc), place, keys, c, parsed.here);
}

/** The document as plain data (for the parts an application reads itself), or undefined after problems. */
export function documentData(input: string, source: string, c: Collector): unknown {
  const parsed = parseText(input, source, c);
  if (!parsed) return undefined;
  try {
    // toJS bounds alias expansion itself (maxAliasCount), so a small file cannot become a huge value.
    return parsed.doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    c.fileOk = false;
    c.problem({ source, key: '(yaml)' }, `cannot convert the document: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** Parses with every position kept; undefined (with problems) when the text is not a usable document. */
function parseText(input: string, source: string, c: Collector): { doc: Document.Parsed; here: Here } | undefined {
  let text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const json = isJsonSource(source);
  const syntaxKey = json ? '(json)' : '(yaml)';
  const kind = json ? 'JSON' : 'YAML';
  const bytes = text.length > MAX_FILE_BYTES ? Buffer.byteLength(text, 'utf8') : 0;
  if (bytes > MAX_FILE_BYTES) {
    c.fileOk = false;
    c.problem({ source, key: '(file)' }, `file too large (${bytes} bytes; the limit is ${MAX_FILE_BYTES})`);
    return undefined;
  }
  const lc = new LineCounter();
  const here: Here = (offset, key) => {
    if (offset === undefined) return { source, key };
    const p = lc.linePos(offset);
    return { source, key, line: p.line, column: p.col };
  };
  if (json) {
    const blanked = blankJsonComments(text);
    if (!blanked.ok) {
      // Line starts are not known yet: count them in the original (same offsets by construction).
      lc.addNewLine(0);
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
      c.fileOk = false;
      c.problem(here(blanked.offset, syntaxKey), blanked.message);
      return undefined;
    }
    text = blanked.text;
  }

  // The yaml composer recurses per nesting level; a stack overflow inside it is caught by the
  // library, but afterwards V8 may abort the whole process on a later parse. Refuse deep input first.
  const deep = tooDeepOffset(text, lc);
  if (deep !== undefined) {
    c.fileOk = false;
    c.problem(here(deep, syntaxKey), `collections nested more than ${MAX_NESTING} levels deep`);
    return undefined;
  }
  let doc: Document.Parsed;
  try {
    // (lineCounter now already holds every line start; parseDocument would add them again)
    doc = parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: true, uniqueKeys: false });
  } catch (err) {
    c.fileOk = false;
    c.problem({ source, key: syntaxKey }, `${kind} parser failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const parserMessage = (e: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }, what: string) => {
    const p = e.linePos?.[0];
    const msg = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    c.problem(p ? { source, key: syntaxKey, line: p.line, column: p.col } : { source, key: syntaxKey }, `${what}: ${msg}`);
  };
  doc.errors.slice(0, MAX_YAML_ERRORS).forEach((e) => parserMessage(e, `${kind} syntax error`));
  if (doc.errors.length > MAX_YAML_ERRORS) {
    c.problem({ source, key: syntaxKey }, `${doc.errors.length - MAX_YAML_ERRORS} more ${kind} syntax errors not shown`);
  }
  if (doc.errors.length > 0) {
    c.fileOk = false;
    return undefined;
  }
  doc.warnings.slice(0, MAX_YAML_ERRORS).forEach((w) => parserMessage(w, `${kind} warning`));
  return { doc, here };
}

/**
 * Offset of a collection nested deeper than MAX_NESTING, if any, found without recursion (the CST
 * parser is iterative). Documents are yielded complete, so `lc` then knows all lines up to there.
 */
function tooDeepOffset(text: string, lc: LineCounter): number | undefined {
  interface Tok { type: string; offset?: number; value?: unknown; items?: { key?: unknown; value?: unknown }[] }
  for (const top of new Parser(lc.addNewLine).parse(text)) {
    const stack: [Tok | undefined, number][] = [[top as Tok, 0]];
    while (stack.length > 0) {
      const [tok, depth] = stack.pop()!;
      if (!tok || typeof tok !== 'object') continue;
      if (tok.type === 'document') stack.push([tok.value as Tok | undefined, depth]);
      if (!Array.isArray(tok.items)) continue;
      if (depth >= MAX_NESTING) return tok.offset ?? 0;
      for (const it of tok.items) stack.push([it.key as Tok, depth + 1], [it.value as Tok, depth + 1]);
    }
  }
  return undefined;
}
