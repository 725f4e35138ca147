/**
 * The ceremony record: a plain-text page written by every ceremony command (ceremony-<UTC time>.txt,
 * public, 0644) to print, check against the screen and the published files, and sign. Fingerprints
 * are written as `openssl x509 -noout -fingerprint -sha256 -in <file>` prints them, so that anyone
 * can check a certificate against the paper with a standard tool.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { writeNewFile } from './files.ts';
import { describeKey } from './algorithms.ts';
import { colonHex, MODE_PUBLIC, sha256Hex } from './layout.ts';
import { commonNameOf, parseCertificate } from './x509.ts';
import { isSumkeepError } from '../core/errors.ts';

export interface RecordSection {
  title: string;
  rows: [string, string][];
}

export interface CeremonyRecord {
  /** What was done: "init", "rotate note", "rotate response", "tls", ... */
  ceremony: string;
  time: number;
  name: string;
  sections: RecordSection[];
  /** What the witnesses check before signing. */
  checks: string[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function keyLabel(x509: X509Certificate): string {
  const k = x509.publicKey;
  if (k.asymmetricKeyType === 'ec') return `ecdsa-${k.asymmetricKeyDetails?.namedCurve ?? '?'}`;
  return describeKey(k).label;
}

/** The rows that describe one certificate (and so its key) on paper. */
export function certificateRows(file: string, der: Uint8Array): [string, string][] {
  const parsed = parseCertificate(der);
  const x509 = new X509Certificate(der);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return [
    ['certificate', file],
    ['subject', commonNameOf(parsed.subject) ?? '?'],
    ['issuer', commonNameOf(parsed.issuer) ?? '?'],
    ['key algorithm', keyLabel(x509)],
    ['serial', Buffer.from(parsed.serial).toString('hex')],
    ['valid from', iso(parsed.notBefore)],
    ['valid until', iso(parsed.notAfter)],
    ['SHA-256 fingerprint', colonHex(sha256Hex(der))],
    ['public key SHA-256', createHash('sha256').update(spki).digest('hex')],
  ];
}

export function formatRecord(r: CeremonyRecord): string {
  const width = Math.max(20, ...r.sections.flatMap((s) => s.rows.map(([k]) => k.length))) + 2;
  const lines: string[] = [
    'SUMKEEP KEY CEREMONY RECORD',
    '===========================',
    '',
    `ceremony:   ${r.ceremony}`,
    `log name:   ${r.name}`,
    `time (UTC): ${iso(r.time)}`,
    '',
  ];
  for (const s of r.sections) {
    lines.push(s.title, '-'.repeat(s.title.length));
    for (const [k, v] of s.rows) lines.push(`  ${(k + ':').padEnd(width)}${v}`);
    lines.push('');
  }
  lines.push('Checks (tick each one)', '----------------------');
  for (const c of r.checks) lines.push(`  [ ] ${c}`);
  lines.push(
    '',
    'Signatures',
    '----------',
    'We were present, saw the commands above run on the offline machine, and checked the values.',
    '',
  );
  for (const role of ['Key custodian', 'Witness', 'Witness']) {
    lines.push(
      `  ${role}:`,
      '    name: ______________________________   date: ____________',
      '    signature: ______________________________',
      '',
    );
  }
  return lines.join('\n');
}

function stamp(ms: number): string {
  return iso(ms).replace(/[-:]/g, '');
}

/** Writes the record as ceremony-<UTC time>[-n].txt in `dir` (never replacing one); returns the path. */
export function writeRecord(dir: string, r: CeremonyRecord): string {
  const text = formatRecord(r);
  for (let n = 1; ; n++) {
    const name = `ceremony-${stamp(r.time)}${n === 1 ? '' : `-${n}`}.txt`;
    try {
      return writeNewFile(dir, name, text, MODE_PUBLIC);
    } catch (e) {
      if (!isSumkeepError(e, 'key_exists') || n >= 100) throw e;
    }
  }
}
