/** The comment that opens a generated region of a deploy file: `# refront:services <region>`. */
export const REGION_BEGIN = '# refront:services';
/** The comment that closes it. */
export const REGION_END = '# refront:services end';

/**
 * `text` with each region's lines (between `# refront:services <name>` and
 * `# refront:services end`, markers kept) replaced by the rendered text.
 *
 * @throws Error naming the file and region when a region's markers are missing.
 */
export function replaceRegions(
  file: string,
  text: string,
  regions: Readonly<Record<string, string>>,
): string {
  let out = text;
  for (const [name, body] of Object.entries(regions)) {
    const begin = new RegExp(`^[ \\t]*${REGION_BEGIN} ${name}\\b.*\\n`, 'm').exec(out);
    if (!begin) throw new Error(`${file}: no "${REGION_BEGIN} ${name}" line`);
    const from = begin.index + begin[0].length;
    const end = new RegExp(`^[ \\t]*${REGION_END}\\s*$`, 'm').exec(out.slice(from));
    if (!end) throw new Error(`${file}: region ${name} has no "${REGION_END}" line`);
    out = out.slice(0, from) + body + out.slice(from + end.index);
  }
  return out;
}
