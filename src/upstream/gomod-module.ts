/**
 * The module path a go.mod file declares, read the minimal way the go command's
 * modfile.ModulePath reads it: line by line, everything from the first `//` on a line is a
 * comment, the first line whose trimmed text is `module` + whitespace + argument wins. The
 * argument is bare (`module example.com/m`) or a Go string literal (`module "example.com/m"`,
 * or with backquotes). A malformed quoted argument, or no module line, yields null.
 *
 * Not understood (null or the first match, as in ModulePath): `module (...)` blocks, which the
 * go command does not write and proxies do not serve.
 *
 * Input is hostile: never throws; bounded by the caller's size limit on the file.
 */
const decoder = new TextDecoder('utf-8'); // not fatal: module paths are ASCII, so U+FFFD never matches one

export function goModModulePath(content: Uint8Array): string | null {
  const text = decoder.decode(content);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    const comment = line.indexOf('//');
    if (comment >= 0) line = line.slice(0, comment);
    line = trimSpace(line);
    if (!line.startsWith('module')) continue;
    const after = line.slice('module'.length);
    const arg = trimSpace(after);
    // "modulex" is another word, and "module" alone has no argument: both are skipped.
    if (arg.length === after.length || arg === '') continue;
    if (arg[0] === '"' || arg[0] === '`') return unquote(arg);
    return arg;
  }
  return null;
}

/** Go's bytes.TrimSpace for the ASCII white space that go.mod files use. */
function trimSpace(s: string): string {
  return s.replace(/^[ \t\r\v\f]+/, '').replace(/[ \t\r\v\f]+$/, '');
}

/**
 * A Go string literal, strictly: the whole argument must be one literal. Only the escapes a
 * module path could need are accepted (`\\`, `\"`); any other escape, a raw newline or text after
 * the closing quote makes it malformed (null), which is never equal to a requested path.
 */
function unquote(arg: string): string | null {
  const q = arg[0];
  if (arg.length < 2 || arg[arg.length - 1] !== q) return null;
  const body = arg.slice(1, -1);
  if (q === '`') return body.includes('`') ? null : body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '"') return null;
    if (c === '\\') {
      const next = body[i + 1];
      if (next !== '\\' && next !== '"') return null;
      out += next;
      i++;
      continue;
    }
    out += c;
  }
  return out;
}
