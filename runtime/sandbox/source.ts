/**
 * Hook files are plain scripts; `export` keywords are accepted for editor
 * friendliness and blanked out (replaced by spaces, so lines and columns of
 * errors stay those of the author's file).
 */

/** `export function f`, `export async function f`, `export const|let|var|class x`. */
const EXPORT_DECL = /^([ \t]*)export[ \t]+(?=(?:async[ \t]+)?function\b|const\b|let\b|var\b|class\b)/gm;
/** `export { a, b };` lists: the names are declared elsewhere in the file. */
const EXPORT_LIST = /^([ \t]*)export[ \t]*\{[^}]*\}[ \t]*;?/gm;

/** The source with `export` syntax blanked, same length and line structure. */
export function stripExports(source: string): string {
  return source
    .replace(EXPORT_DECL, (m, indent: string) => indent + " ".repeat(m.length - indent.length))
    .replace(EXPORT_LIST, (m) => m.replace(/[^\n]/g, " "));
}

/**
 * Wraps the (already syntax-checked) author script in a factory function so
 * every call of the factory re-creates the author's top-level bindings: no
 * `let counter` survives from one input to the next. The prefix takes a line
 * of its own; compile with `lineOffset: FACTORY_LINE_OFFSET` so stack traces
 * show the author's own lines and columns.
 */
export const FACTORY_PREFIX = "(function statecellHooks() {\n";
export const FACTORY_LINE_OFFSET = -1;

export function wrapFactory(stripped: string): string {
  return (
    `${FACTORY_PREFIX}${stripped}\n;return {` +
    ` validate: typeof validate === "function" ? validate : undefined,` +
    ` transform: typeof transform === "function" ? transform : undefined,` +
    ` reduce: typeof reduce === "function" ? reduce : undefined };\n})`
  );
}
