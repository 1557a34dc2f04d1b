/**
 * A shader is a list of named WGSL files from shaders/, concatenated in order
 * (a kernel after the parts it calls, e.g. requant.wgsl then the kernel).
 * Nothing inside a file is rewritten: variants are `override` constants and the
 * choice of parts, never string surgery. Each part is preceded by a marker
 * line, and the line map lets a compiler message be traced back to its file.
 */
import { shaderSources, type ShaderFile } from './generated/shaders.js';

export type { ShaderFile } from './generated/shaders.js';

export interface ShaderPartSpan {
  readonly part: ShaderFile;
  /** 1-based line in the composed code where the part's first line sits. */
  readonly firstLine: number;
  readonly lineCount: number;
}

export interface ComposedShader {
  readonly code: string;
  readonly parts: readonly ShaderPartSpan[];
}

/** The source of one file under shaders/ (e.g. `requant.wgsl`). */
export function shaderSource(part: ShaderFile): string {
  const code = shaderSources[part];
  // The type already restricts `part`; this guards calls from untyped code.
  if (code === undefined) throw new Error(`no shader part '${String(part)}' (run npm run gen:shaders after adding one)`);
  return code;
}

/** Concatenates the named parts, each after a `// ---- shaders/<name> ----` marker line. */
export function composeShader(parts: readonly ShaderFile[]): ComposedShader {
  if (parts.length === 0) throw new Error('composeShader: no parts');
  const seen = new Set<ShaderFile>();
  const chunks: string[] = [];
  const spans: ShaderPartSpan[] = [];
  let line = 1;
  for (const part of parts) {
    // A part twice would declare its functions twice: a WGSL error far from the cause.
    if (seen.has(part)) throw new Error(`composeShader: part '${part}' is listed twice`);
    seen.add(part);
    const body = shaderSource(part).replace(/\n*$/, '\n');
    const lineCount = body.split('\n').length - 1;
    chunks.push(`// ---- shaders/${part} ----\n`, body);
    spans.push({ part, firstLine: line + 1, lineCount });
    line += 1 + lineCount;
  }
  return { code: chunks.join(''), parts: spans };
}

/** The file and line (both 1-based) of a line of composed code; undefined on a marker line or past the end. */
export function locateLine(shader: ComposedShader, line: number): { part: ShaderFile; line: number } | undefined {
  for (const s of shader.parts) {
    if (line >= s.firstLine && line < s.firstLine + s.lineCount) return { part: s.part, line: line - s.firstLine + 1 };
  }
  return undefined;
}
