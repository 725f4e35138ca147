/** What the status page shows (GET /, POST /verify), gathered by status.ts, rendered as HTML or text. */
import type { GrowthPoint, RecordSummary } from '../log/api.ts';
import type { VerifyLineResult, VerifyStatus } from '../verify/response.ts';

export interface StatusView {
  /** The log name (GOSUMDB key name). */
  name: string;
  /** The GOSUMDB value, `<verifier key> <public URL>`; null when either is not known. */
  gosumdb: string | null;
  /** The latest signed head; null while the log is empty. */
  head: { size: number; createdAt: number } | null;
  growth: GrowthPoint[];
  recent: RecordSummary[];
  /** Present for GET /?q=...: the prefix, its results (at most limits.search) or why it was refused. */
  search: { q: string; results: RecordSummary[]; more: boolean; error: string | null } | null;
  /** Present for POST /verify (the page without JavaScript): the go.sum pasted and its check. */
  verify: VerifyView | null;
  limits: { recent: number; search: number; verifyLines: number; verifyBytes: number };
  /** The clock of this answer (ms since the epoch): the chart runs up to it. */
  now: number;
}

export type VerifyView =
  | {
      gosum: string;
      results: VerifyLineResult[];
      summary: Record<VerifyStatus, number>;
      treeSize: number;
      error?: undefined;
    }
  | { gosum: string; error: string };
