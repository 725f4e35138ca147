/**
 * The rules a module zip can break, each with a short stable name. A refusal is
 * `SumkeepError('invalid_zip', '<rule>: <entry name>[ (<detail>)]')`; the entry name is shown raw
 * when it is printable and short, else as a quoted, cut JSON string (it is hostile input and ends
 * up on terminals and in logs). Zip-wide rules name the zip file or a size instead of an entry.
 *
 * | rule                    | refused when                                                        | go command (x/mod/zip, archive/zip) |
 * |-------------------------|---------------------------------------------------------------------|-------------------------------------|
 * | not a zip file          | the archive structure cannot be read (no end record, bad central directory) | zip.NewReader fails          |
 * | zip too large           | the zip file is larger than 500 MiB                                 | CheckZip SizeError                  |
 * | content too large       | declared uncompressed sizes of the files add up to more than 500 MiB | CheckZip SizeError                 |
 * | go.mod too large        | `<prefix>go.mod` is larger than 16 MiB                              | CheckZip                            |
 * | LICENSE too large       | `<prefix>LICENSE` is larger than 16 MiB                             | CheckZip                            |
 * | too many files          | more than 1,000,000 entries (sumkeep's bound; Go has none)          | -                                   |
 * | absolute path           | a name starts with "/"                                              | prefix check / CheckFilePath        |
 * | path traversal          | a name has a ".." element                                           | CheckFilePath                       |
 * | backslash               | a name contains "\"                                                 | CheckFilePath                       |
 * | unclean path            | a name has a "." or an empty element ("a//b")                       | path.Clean / CheckFilePath          |
 * | bad module prefix       | the `M@V/` taken from the first entry is not a valid module version | module.Check                        |
 * | outside module prefix   | a name does not start with `M@V/`                                   | CheckZip                            |
 * | bad file path           | a name below the prefix fails module.CheckFilePath, or is not UTF-8 | CheckZip                            |
 * | case-fold collision     | two names are equal under Unicode simple case folding               | CheckZip (collisionChecker)         |
 * | duplicate entry         | the same file name appears twice                                    | CheckZip                            |
 * | file and directory      | a name is both a file and a directory ("a" and "a/b")               | CheckZip                            |
 * | go.mod not at root      | a file named go.mod (any case) below the module root                | CheckZip                            |
 * | go.mod name case        | "GO.MOD" and the like at the root                                   | CheckZip                            |
 * | symlink                 | Unix mode says symbolic link                                        | stricter than Go (see below)        |
 * | irregular file          | Unix mode says device, fifo or socket                               | stricter than Go                    |
 * | directory as file       | a name without a trailing "/" whose mode says directory             | stricter than Go                    |
 * | directory with content  | a directory entry ("x/") declares a non-zero size                   | archive/zip (Go 1.20+)              |
 * | encrypted               | the entry is encrypted                                              | archive/zip cannot read it          |
 * | unsupported compression | compression method other than store (0) or deflate (8)              | archive/zip ErrAlgorithm            |
 * | size mismatch           | what inflates is not exactly the declared uncompressed size         | archive/zip, Unzip                  |
 * | crc mismatch            | the CRC-32 of the content is not the declared one                   | archive/zip ErrChecksum             |
 * | corrupt data            | an entry's local header or deflate stream is broken                 | archive/zip                         |
 *
 * Go's CheckZip reads neither file modes nor types: a zip entry marked as a symlink is extracted by
 * the go command as a regular file holding the link target. sumkeep's design refuses such entries
 * instead (no module zip made by `go mod` or a proxy carries them), so a zip refused for
 * `symlink`, `irregular file` or `directory as file` is one the go command would still accept.
 */
import { SumkeepError } from '../core/errors.ts';
import { shown } from '../core/module-quote.ts';

export const ZIP_RULES = [
  'not a zip file',
  'zip too large',
  'content too large',
  'go.mod too large',
  'LICENSE too large',
  'too many files',
  'absolute path',
  'path traversal',
  'backslash',
  'unclean path',
  'bad module prefix',
  'outside module prefix',
  'bad file path',
  'case-fold collision',
  'duplicate entry',
  'file and directory',
  'go.mod not at root',
  'go.mod name case',
  'symlink',
  'irregular file',
  'directory as file',
  'directory with content',
  'encrypted',
  'unsupported compression',
  'size mismatch',
  'crc mismatch',
  'corrupt data',
] as const;

export type ZipRule = (typeof ZIP_RULES)[number];

/** A broken rule found by a check, before it becomes an error. */
export interface RuleProblem {
  rule: ZipRule;
  detail?: string;
}

/** The SumkeepError for `rule` broken by `subject` (an entry name, or the zip for zip-wide rules). */
export function zipError(rule: ZipRule, subject: string, detail?: string, cause?: unknown): SumkeepError {
  const tail = detail === undefined || detail === '' ? '' : ` (${detail})`;
  return new SumkeepError(
    'invalid_zip',
    `${rule}: ${shown(subject)}${tail}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The rule a refusal names: the text before the first ": " of its message. */
export function ruleOf(e: SumkeepError): ZipRule | null {
  const rule = e.message.slice(0, e.message.indexOf(': '));
  return (ZIP_RULES as readonly string[]).includes(rule) ? (rule as ZipRule) : null;
}
