/** A workspace of the repository: its folder (from the root) and its package.json. */
export interface Workspace {
  readonly dir: string;
  readonly manifest: { readonly name: string; readonly private?: boolean; readonly [key: string]: unknown };
}

/** One packed package. */
export interface Tarball {
  /** The package name. */
  readonly name: string;
  /** Its workspace folder, from the root. */
  readonly dir: string;
  /** The tarball's absolute path. */
  readonly file: string;
  /** The paths inside the package (`package/` stripped). */
  readonly files: ReadonlySet<string>;
}

/** The repository root. */
export declare const root: string;
/** The workspace folders that are published (not private), from the root package.json. */
export declare function publishableWorkspaces(): Workspace[];
/** The publishable workspaces without dist/. */
export declare function unbuiltWorkspaces(workspaces?: readonly Workspace[]): Workspace[];
/** Packs `workspaces` into `destination` with `npm pack`. */
export declare function packWorkspaces(workspaces: readonly Workspace[], destination: string): Tarball[];
/** The `@refront/*` packages a package-lock.json installed from anywhere but a tarball. */
export declare function notFromTarballs(lockFile: string): string[];
