/**
 * `npm run build`: compiles src/ and machines/ (tsconfig.build.json) to dist/ as JavaScript with
 * declarations, declaration maps and source maps. `prepare` runs it, so `npm pack`, `npm publish`
 * and installing from git all ship a fresh build.
 *
 * Why not plain `tsc -p`: `rewriteRelativeImportExtensions` turns `./x.ts` into `./x.js` in the
 * emitted JavaScript only; declarations keep `./x.ts`, which a consumer's compiler then has to
 * map back to `x.d.ts` (and strict setups reject). A declaration transformer rewrites them the
 * same way, on the syntax tree, so `import("./x.ts")` types inside declarations are covered too.
 *
 * dist/ is removed first: a source file deleted since the last build must not linger in the
 * package.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..');
const CONFIG = join(ROOT, 'tsconfig.build.json');

/** `./a.ts` -> `./a.js` (and .mts/.cts), as tsc does for JavaScript; `.d.ts` and packages are left alone. */
function rewriteSpecifier(specifier: string): string {
  if (!/^\.\.?\//.test(specifier) || /\.d\.[cm]?ts$/.test(specifier)) return specifier;
  return specifier.replace(/\.([cm]?)ts$/, '.$1js');
}

function rewriteDeclarations(context: ts.TransformationContext): (file: ts.SourceFile | ts.Bundle) => ts.SourceFile | ts.Bundle {
  const { factory } = context;
  const literal = (node: ts.Expression | undefined): ts.StringLiteral | undefined => {
    if (node === undefined || !ts.isStringLiteral(node)) return undefined;
    const to = rewriteSpecifier(node.text);
    return to === node.text ? undefined : factory.createStringLiteral(to);
  };
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      const to = literal(node.moduleSpecifier);
      if (to) return factory.updateImportDeclaration(node, node.modifiers, node.importClause, to, node.attributes);
    } else if (ts.isExportDeclaration(node)) {
      const to = literal(node.moduleSpecifier);
      if (to) return factory.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, to, node.attributes);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const to = literal(node.argument.literal as ts.Expression);
      if (to) {
        const argument = factory.updateLiteralTypeNode(node.argument, to);
        return factory.updateImportTypeNode(node, argument, node.attributes, node.qualifier, ts.visitNodes(node.typeArguments, visit, ts.isTypeNode), node.isTypeOf);
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (file) => (ts.isSourceFile(file) ? ts.visitEachChild(file, visit, context) : file);
}

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
  const format = process.stderr.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  process.stderr.write(format(diagnostics, host));
  process.exit(1);
}

function build(): void {
  const parsed = ts.getParsedCommandLineOfConfigFile(CONFIG, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => fail([d]),
  });
  if (!parsed) throw new Error(`build: cannot read ${CONFIG}`);
  if (parsed.errors.length > 0) fail(parsed.errors);
  const outDir = parsed.options.outDir;
  if (outDir === undefined) throw new Error(`build: ${CONFIG} sets no outDir`);
  rmSync(outDir, { recursive: true, force: true });

  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
  const result = program.emit(undefined, undefined, undefined, false, { afterDeclarations: [rewriteDeclarations] });
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diagnostics.length > 0 || result.emitSkipped) fail(diagnostics);
}

build();
