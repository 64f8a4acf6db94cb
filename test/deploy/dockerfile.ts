/**
 * A parser of Dockerfiles, enough to assert what an image build does: instructions with their
 * line numbers, backslash continuations, comments, and the stages that FROM opens. Lines it
 * cannot read are errors naming the line.
 */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

export class DockerfileError extends Error {}

const KEYWORDS = new Set(['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

export function parseDockerfile(text: string, name = 'Dockerfile'): { globalArgs: Instruction[]; stages: Stage[] } {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    // Continuation lines may be interleaved with comment lines, which Docker drops.
    while (line.endsWith('\\')) {
      line = line.slice(0, -1).trimEnd();
      i++;
      while (i < lines.length && lines[i]!.trim().startsWith('#')) i++;
      if (i >= lines.length) throw new DockerfileError(`${name}:${start}: the file ends inside a continued instruction`);
      line = `${line} ${lines[i]!.trim()}`;
    }
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    const keyword = m?.[1]?.toUpperCase();
    if (!m || keyword === undefined || !KEYWORDS.has(keyword)) throw new DockerfileError(`${name}:${start}: not an instruction: ${JSON.stringify(line)}`);
    const instruction = { keyword, args: m[2]!.trim(), line: start };
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new DockerfileError(`${name}:${start}: cannot read FROM ${instruction.args}`);
      stages.push({ image: from[1]!, name: from[2] ?? null, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new DockerfileError(`${name}:${start}: ${keyword} before the first FROM`);
      globalArgs.push(instruction);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new DockerfileError(`${name}: no FROM instruction`);
  return { globalArgs, stages };
}

/** Exec-form arguments (`["a", "b"]`) of CMD, ENTRYPOINT or a HEALTHCHECK's CMD; an error for shell form. */
export function execForm(args: string, where: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new DockerfileError(`${where}: not exec form (a JSON array): ${args}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new DockerfileError(`${where}: not an array of strings: ${args}`);
  return parsed as string[];
}
