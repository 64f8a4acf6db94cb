/** One README row per configuration key; `|` inside a cell is escaped so the table keeps its columns. */
export function configTableRow(k: { path: string; env: string; type: string; default: string; doc: string }): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return `| \`${k.path}\` | \`${k.env}\` | ${cell(k.type)} | ${cell(k.default)} | ${cell(k.doc)} |`;
}
