import ts from 'typescript';
import { repoPath } from './paths.js';
import type { YamlDoc } from './yamlDocs.js';

/** A model class of kubernetes-models: built from a manifest, `validate()` throws on schema errors. */
type ModelClass = new (data: Record<string, unknown>) => { validate(): void };

/**
 * API groups of custom resources the manifests use, and the package of their models (the same
 * generator as kubernetes-models, from the project's Go API types): cert-manager's Issuer and
 * Certificate (docs/deploy.md names the version).
 */
const CUSTOM_GROUPS: Readonly<Record<string, string>> = {
  'cert-manager.io': '@kubernetes-models/cert-manager',
};

/**
 * The models module of a kind: `apps/v1` + `Deployment` → `kubernetes-models/apps/v1/Deployment`;
 * a custom resource's group → its package (`@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer`).
 */
function modelModule(apiVersion: string, kind: string): string {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) {
    throw new Error(`not a Kubernetes apiVersion/kind: ${apiVersion} ${kind}`);
  }
  const custom = CUSTOM_GROUPS[apiVersion.split('/')[0] as string];
  return `${custom ?? 'kubernetes-models'}/${apiVersion}/${kind}`;
}

/**
 * Validates one manifest against the OpenAPI schema of its apiVersion and kind (the ajv-compiled
 * validators of kubernetes-models). Returns the problems, empty when valid; an apiVersion/kind the
 * package does not know is a problem too.
 */
export async function schemaProblems(doc: YamlDoc): Promise<string[]> {
  const { apiVersion, kind } = doc.body;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required'];
  let Model: ModelClass | undefined;
  try {
    const mod = (await import(modelModule(apiVersion, kind))) as Record<string, ModelClass>;
    Model = mod[kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`no schema for ${apiVersion} ${kind}`];
  try {
    new Model(doc.body).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * The JSON schemas of Kubernetes accept unknown fields (a misspelt `livenesProbe` would pass), so
 * every manifest is also type-checked as an object literal of its kubernetes-models interface:
 * TypeScript's excess-property check rejects any field the API does not define, at any depth.
 * Returns the problems per document (by position in `docs`).
 */
export function typeProblems(docs: readonly YamlDoc[]): Map<number, string[]> {
  const fileName = repoPath('deploy/test/__manifests__.ts');
  const lines: string[] = [];
  docs.forEach((doc, i) => {
    const { apiVersion, kind } = doc.body as { apiVersion: string; kind: string };
    lines.push(`import type { I${kind} as T${i} } from '${modelModule(apiVersion, kind)}';`);
  });
  const firstDocLine = lines.length;
  docs.forEach((doc, i) => {
    lines.push(`export const doc${i}: T${i} = ${JSON.stringify(doc.body)};`);
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, language, onError, create) =>
    name === fileName
      ? ts.createSourceFile(name, source, language)
      : getSourceFile(name, language, onError, create);
  host.fileExists = (name) => name === fileName || fileExists(name);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  const program = ts.createProgram([fileName], options, host);
  const out = new Map<number, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const index = d.file?.fileName === fileName && line >= firstDocLine ? line - firstDocLine : -1;
    out.set(index, [...(out.get(index) ?? []), message]);
  }
  return out;
}
