/**
 * A parser of systemd unit files, enough to assert what a unit says: sections, `Key=value`
 * lines (a key may repeat), `#`/`;` comments and backslash continuations. An empty assignment
 * (`Key=`) resets the key, as systemd reads it. Anything else is an error naming the line.
 */
export type UnitFile = Map<string, Map<string, string[]>>;

export class UnitFileError extends Error {}

export function parseUnitFile(text: string, name = 'unit file'): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // A trailing backslash joins the next line, with a space, as systemd does.
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const title = header[1]!;
      if (unit.has(title)) throw new UnitFileError(`${name}:${lineNo}: section [${title}] appears twice`);
      section = new Map();
      unit.set(title, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UnitFileError(`${name}:${lineNo}: expected Key=value or [Section], got ${JSON.stringify(line)}`);
    if (section === null) throw new UnitFileError(`${name}:${lineNo}: ${line.slice(0, eq).trim()}= before any [Section]`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw new UnitFileError(`${name}:${lineNo}: ${JSON.stringify(key)} is not a directive name`);
    if (value === '') section.set(key, []);
    else section.set(key, [...(section.get(key) ?? []), value]);
  }
  return unit;
}

/** The values a directive has in a section after resets (empty list: set empty, undefined: never set). */
export function directive(unit: UnitFile, section: string, key: string): string[] | undefined {
  return unit.get(section)?.get(key);
}

/** A systemd time span (`15`, `15s`, `1min 30s`, `500ms`) in milliseconds; an error for anything else. */
export function timeSpanMs(text: string): number {
  const units: Record<string, number> = { '': 1000, us: 0.001, ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };
  let total = 0;
  const parts = text.trim().split(/\s+/);
  for (const part of parts) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part);
    const factor = m ? units[m[2]!] : undefined;
    if (!m || factor === undefined) throw new UnitFileError(`not a time span: ${JSON.stringify(text)}`);
    total += Number(m[1]) * factor;
  }
  return total;
}
