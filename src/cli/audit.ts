/**
 * `sumkeep audit --db <db> [--against <url-or-dir>]`: the offline consistency check of a log
 * (src/audit/audit.ts). Reads the database only. The note keys that heads must be signed with come
 * from the key directory's public files (note*.pub, every generation) and/or --trust.
 * Exit 0 clean, 1 inconsistent (the findings name record ids and head sizes), 2 error.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { SumkeepError } from '../core/errors.ts';
import { newVerifier, verifierSet, type Verifier } from '../core/note.ts';
import { noteGenerationOf } from '../keys/layout.ts';
import { parseTrustBundle } from '../keys/trust.ts';
import { openStore } from '../store/open.ts';
import { auditLog, type AuditReport } from '../audit/audit.ts';
import { compareTiles, otherCopy, otherLatest } from '../audit/against.ts';
import { fromBase64 } from '../core/bytes.ts';
import { addSettings, isGiven, readSettings, storeOptions, type SettingName } from '../settings.ts';

const AUDIT_SETTINGS = [
  'db',
  'dbPoolMax',
  'dbStatementTimeoutMs',
  'keys',
  'trust',
  'against',
  'json',
] as const satisfies readonly SettingName[];
type AuditFlags = Partial<Record<(typeof AUDIT_SETTINGS)[number], string | boolean>>;

export function registerAudit(program: Command): void {
  const cmd = program
    .command('audit')
    .description(
      'check a log database end to end: records, stored hashes, signed heads (exit 0 clean, 1 inconsistent, 2 error)',
    );
  addSettings(cmd, AUDIT_SETTINGS).action(async (flags: AuditFlags) => {
    process.exitCode = await audit(flags);
  });
}

/** Every note verifier key the log may have signed with: note*.pub of the key directory, trust.json. */
function noteVerifiers(keysDir: string, keysGiven: boolean, trustFile: string | undefined): Verifier[] {
  const vkeys = new Set<string>();
  if (trustFile !== undefined) {
    let bundle;
    try {
      bundle = parseTrustBundle(readFileSync(trustFile, 'utf8'));
    } catch (e) {
      throw new SumkeepError('config', `--trust ${trustFile}: ${(e as Error).message}`, { cause: e });
    }
    for (const k of bundle.verifierKeys) vkeys.add(k);
  }
  if (existsSync(keysDir)) {
    for (const f of readdirSync(keysDir).sort()) {
      if (!f.endsWith('.pub') || noteGenerationOf(f) === null) continue;
      vkeys.add(readFileSync(join(keysDir, f), 'utf8').trim());
    }
  } else if (keysGiven) {
    throw new SumkeepError('config', `--keys ${keysDir}: no such directory`);
  }
  if (vkeys.size === 0) {
    throw new SumkeepError(
      'config',
      `no note verifier key: give --keys <dir> (its note*.pub files) or --trust <trust.json>`,
    );
  }
  return [...vkeys].map((k) => {
    try {
      return newVerifier(k);
    } catch (e) {
      throw new SumkeepError(
        'config',
        `bad note verifier key ${JSON.stringify(k.slice(0, 100))}: ${(e as Error).message}`,
      );
    }
  });
}

async function audit(flags: AuditFlags): Promise<number> {
  const s = readSettings(AUDIT_SETTINGS, flags);
  const verifiers = verifierSet(noteVerifiers(s.keys, isGiven('keys', flags), s.trust));
  const copy = s.against === undefined ? null : otherCopy(s.against);
  const other = copy === null ? null : await otherLatest(copy, verifiers);
  const store = await openStore(s.db, { readonly: true, check: false, scan: true, ...storeOptions(s) });
  const tty = process.stderr.isTTY === true && !s.json;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: 'audit [{bar}] {value}/{total} records | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let report: AuditReport;
  try {
    bar?.start(await store.treeSize(), 0);
    report = await auditLog(store, {
      verifiers,
      others: other === null ? [] : [other],
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    if (copy !== null && other !== null) {
      const root = fromBase64(report.root)!;
      const more = await compareTiles(copy, other, { size: report.size, root }, store);
      report.findings.push(...more);
      report.ok = report.ok && more.length === 0;
    }
  } finally {
    bar?.stop();
    await store.close();
  }
  if (s.json) {
    process.stdout.write(
      JSON.stringify(
        { ...report, against: other === null ? null : { where: other.where, size: other.size } },
        null,
        2,
      ) + '\n',
    );
  } else {
    process.stdout.write(
      `audit: ${report.records} records, ${report.heads} signed heads, tree size ${report.size}, root ${report.root}\n`,
    );
    if (other !== null) process.stdout.write(`audit: ${other.where} shows size ${other.size}\n`);
    for (const f of report.findings) process.stdout.write(`inconsistent: ${f.message}\n`);
    if (report.moreFindings > 0) process.stdout.write(`inconsistent: ... and ${report.moreFindings} more\n`);
    process.stdout.write(
      report.ok
        ? 'audit: clean\n'
        : `audit: INCONSISTENT (${report.findings.length + report.moreFindings} findings)\n`,
    );
  }
  return report.ok ? 0 : 1;
}
