import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { type ContractModule, contractModule, runBuf, toolPath } from './workspace.js';

/**
 * The ts-proto options Refront's packages need (docs/decisions/0003-proto-pipeline.md): generic
 * service definitions for `createClient` and `server.add`, `$type` only on the static side (else
 * every call fails to typecheck for a missing `$type`), ESM `.js` imports, optional sub-messages,
 * `number` for 64-bit integers, and oneofs as `{ $case, value }` unions.
 */
export const TS_PROTO_OPTIONS: readonly string[] = [
  'outputServices=generic-definitions',
  'outputTypeAnnotations=static-only',
  'useExactTypes=false',
  'esModuleInterop=true',
  'importSuffix=.js',
  'useOptionals=messages',
  'forceLong=number',
  'env=node',
  'oneof=unions-value',
];

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Where to start looking for the package (a directory holding `proto/`) and `buf.yaml`. */
  readonly cwd: string;
  /** The buf module of the contracts. @default `proto` of the nearest package holding one */
  readonly proto?: string;
  /** Where the TypeScript goes. @default `src/gen` beside that `proto` */
  readonly out?: string;
  /** Only compare: fail when the committed code differs from what would be generated. */
  readonly check?: boolean;
  /** Whether to write ts-proto's TypeScript (messages, codecs, service definitions). @default true */
  readonly codecs?: boolean;
  /** Whether to write `descriptors.ts`, the module's FileDescriptorSet. @default true */
  readonly descriptors?: boolean;
}

/** What {@link generate} did. */
export interface GenerateResult {
  /** The buf module, relative to the buf workspace. */
  readonly module: string;
  /** The output directory (absolute). */
  readonly out: string;
  /** The files written (or compared), relative to `out`. */
  readonly files: readonly string[];
  /** With `check`: the files that differ or are missing on one side. */
  readonly stale: readonly string[];
}

/**
 * Runs Refront's contract pipeline on one buf module: `buf lint`, ts-proto through `buf generate`
 * with {@link TS_PROTO_OPTIONS}, then keeps only the generated files the module's own contracts
 * need, writes `descriptors.ts` (the module's FileDescriptorSet, for `@refront/validate`) and
 * shares one empty `Buffer` per file for absent bytes fields. The repository's own contracts go
 * through it too (`npm run proto:gen`, `scripts/proto-gen.ts`). `buf` and `ts-proto` are taken
 * from the workspace's `node_modules`, else from the CLI's own dependencies.
 *
 * @throws RefrontError `CLI_NOT_IN_WORKSPACE` when no `proto/` or no `buf.yaml` is found, `CLI_TOOL_FAILED` when buf fails (its output is printed).
 * @example
 * generate({ cwd: 'examples/refront-demo' }); // proto/ → src/gen/
 */
export function generate(options: GenerateOptions): GenerateResult {
  const m = contractModule(options.cwd, options.proto);
  const { module } = m;
  const out = options.out ? resolve(options.cwd, options.out) : join(dirname(m.proto), 'src', 'gen');
  runBuf(m, ['lint', module]);
  const target = options.check ? mkdtempSync(join(tmpdir(), 'refront-generate-')) : out;
  try {
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    if (options.codecs !== false) writeCodecs(m, target);
    if (options.descriptors !== false) {
      const tmp = mkdtempSync(join(tmpdir(), 'refront-descriptors-'));
      try {
        const set = join(tmp, 'set.binpb');
        runBuf(m, ['build', module, '--exclude-imports', '--exclude-source-info', '-o', set]);
        writeDescriptors(target, module, readFileSync(set).toString('base64'));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    const files = listFiles(target).filter((f) => f.endsWith('.ts'));
    for (const f of files) shareEmptyBytes(join(target, f));
    if (!options.check) return { module, out, files, stale: [] };
    const committed = new Set(listFiles(out));
    const names = [...new Set([...listFiles(target), ...committed])].sort();
    const stale = names.filter((n) => {
      const a = join(target, n);
      const b = join(out, n);
      return !existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b));
    });
    return { module, out, files, stale };
  } finally {
    if (options.check) rmSync(target, { recursive: true, force: true });
  }
}

/** ts-proto through `buf generate` into `target`, keeping only what the module's own files need. */
function writeCodecs(m: ContractModule, target: string): void {
  const { workspace, module } = m;
  const tsProto = toolPath(workspace, 'ts-proto', 'protoc-gen-ts_proto');
  const buf = (args: string[]): Buffer => runBuf(m, args);
  const template = JSON.stringify({
    version: 'v2',
    plugins: [
      {
        local: [process.execPath, tsProto],
        out: '.',
        strategy: 'all',
        opt: TS_PROTO_OPTIONS,
      },
    ],
  });
  buf(['generate', module, '--template', template, '--output', target]);
  const own = buf(['ls-files', module])
    .toString()
    .split('\n')
    .filter((f) => f.endsWith('.proto'))
    .map((f) => relative(module, relative(workspace, resolve(workspace, f))).replace(/\.proto$/, '.ts'));
  pruneUnimported(own, target);
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/**
 * ts-proto also emits every file the module imports; only the module's own files and what they
 * import (transitively) are kept: `buf/validate/validate.ts` (options only) is 600 kB.
 */
function pruneUnimported(own: readonly string[], outDir: string): void {
  const keep = new Set<string>();
  const queue = [...own];
  while (queue.length > 0) {
    const name = normalize(queue.pop() as string);
    if (keep.has(name)) continue;
    keep.add(name);
    const text = readFileSync(join(outDir, name), 'utf8');
    for (const m of text.matchAll(/^import .* from "(\.{1,2}\/[^"]+)\.js";$/gm))
      queue.push(join(dirname(name), `${m[1]}.ts`));
  }
  for (const name of listFiles(outDir))
    if (name.endsWith('.ts') && !keep.has(name)) rmSync(join(outDir, name));
  for (const d of readdirSync(outDir, { recursive: true }).map(String).sort().reverse()) {
    const dir = join(outDir, d);
    if (statSync(dir).isDirectory() && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
}

/** Writes `descriptors.ts`: the module's FileDescriptorSet in base64, as a module bundles carry. */
function writeDescriptors(outDir: string, module: string, base64: string): void {
  writeFileSync(
    join(outDir, 'descriptors.ts'),
    [
      '// Code generated by the Refront contract pipeline (buf build --exclude-imports --exclude-source-info). DO NOT EDIT.',
      `// source: ${module}`,
      '',
      '/**',
      ' * The google.protobuf.FileDescriptorSet of the .proto files of this module (not their imports),',
      ' * in base64: their messages and validation rules, for `@refront/validate`.',
      ' */',
      `export const FILE_DESCRIPTOR_SET = '${base64}';`,
      '',
    ].join('\n'),
  );
}

const EMPTY_BYTES_DECL =
  '/** One shared empty value for absent bytes fields (it has no contents to change). */\nconst EMPTY_BYTES: Buffer = Buffer.alloc(0);';

/** One shared `Buffer.alloc(0)` per file instead of one per absent bytes field per decode. */
function shareEmptyBytes(file: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes('Buffer.alloc(0)')) return;
  const lines = text.replaceAll('Buffer.alloc(0)', 'EMPTY_BYTES').split('\n');
  let at = 0;
  for (let i = 0; i < lines.length; i++) if (/^import /.test(lines[i] as string)) at = i + 1;
  lines.splice(at, 0, '', EMPTY_BYTES_DECL);
  writeFileSync(file, lines.join('\n'));
}
