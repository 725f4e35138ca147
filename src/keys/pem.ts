/**
 * PEM (RFC 7468 strict form): "-----BEGIN <label>-----\n", standard base64 in lines of 64
 * characters, "-----END <label>-----\n". The reader also takes CRLF and a last line without newline,
 * and refuses anything else between the markers.
 */
import { fromBase64, toBase64 } from '../core/bytes.ts';
import { SumkeepError } from '../core/errors.ts';

/** Largest PEM text read (a certificate chain is a few KiB). */
export const MAX_PEM_LENGTH = 1 << 20;
const MAX_BLOCKS = 100;

export function toPem(der: Uint8Array, label: string): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

/** Every PEM block of `text`, in order; text outside blocks is ignored (as OpenSSL does). */
export function readPemBlocks(text: string): PemBlock[] {
  if (typeof text !== 'string' || text.length > MAX_PEM_LENGTH) {
    throw new SumkeepError('bad_input', 'PEM text too large');
  }
  const lines = text.split(/\r?\n/);
  const out: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = /^-----BEGIN ([A-Z0-9 ]{1,64})-----$/.exec(lines[i]!);
    if (!begin) continue;
    const label = begin[1]!;
    let b64 = '';
    let j = i + 1;
    for (; j < lines.length && lines[j] !== `-----END ${label}-----`; j++) b64 += lines[j]!.trim();
    if (j >= lines.length) throw new SumkeepError('bad_input', `PEM block ${label} has no END line`);
    const der = fromBase64(b64);
    if (der === null || der.length === 0) {
      throw new SumkeepError('bad_input', `PEM block ${label} is not base64`);
    }
    out.push({ label, der });
    if (out.length > MAX_BLOCKS) throw new SumkeepError('bad_input', 'too many PEM blocks');
    i = j;
  }
  return out;
}

/** The single block of `text`, which must carry `label`. */
export function readPem(text: string, label: string): Uint8Array {
  const blocks = readPemBlocks(text);
  if (blocks.length !== 1 || blocks[0]!.label !== label) {
    throw new SumkeepError('bad_input', `want exactly one PEM block ${label}`);
  }
  return blocks[0]!.der;
}
