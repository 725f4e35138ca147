/**
 * The rollback guard and the publisher that `serve` and `ingest` hand to the sequencer, from
 * their settings and key directory (src/log/checkpoint.ts, src/log/publish.ts).
 */
import { SumkeepError } from '../core/errors.ts';
import { newVerifier, verifierSet } from '../core/note.ts';
import type { CheckpointLocation } from '../config.ts';
import { noteVerifierKeys } from '../keys/notekey.ts';
import { CheckpointGuard } from '../log/checkpoint.ts';
import { Publisher } from '../log/publish.ts';
import type { HeadGuard, HeadPublisher } from '../log/sequencer.ts';
import type { AuditStore } from '../store/store.ts';

/**
 * The guard at `checkpoint` (none for null), verifying the kept head with every note key the log
 * may have signed with: the serving ones (`verifierKeys`), every note*.pub of the key directory
 * (retired generations too) and the trust bundle's.
 */
export function rollbackGuard(
  checkpoint: CheckpointLocation | null,
  keysDir: string,
  verifierKeys: readonly string[],
): HeadGuard | undefined {
  if (checkpoint === null) return undefined;
  const vkeys = new Set([...verifierKeys, ...noteVerifierKeys(keysDir)]);
  const verifiers = [...vkeys].map((k) => {
    try {
      return newVerifier(k);
    } catch (e) {
      throw new SumkeepError(
        'config',
        `bad note verifier key ${JSON.stringify(k.slice(0, 100))} in ${keysDir}`,
        {
          cause: e,
        },
      );
    }
  });
  return new CheckpointGuard(checkpoint.file, verifierSet(verifiers), checkpoint.writes);
}

/**
 * The publisher of --publish <dir> (none for null); `log` gets its progress lines (re-signing the
 * lookup files after a note-key rotation).
 */
export function publisherOf(
  dir: string | null,
  store: AuditStore,
  log?: (line: string) => void,
): HeadPublisher | undefined {
  return dir === null ? undefined : new Publisher(dir, store, log);
}
