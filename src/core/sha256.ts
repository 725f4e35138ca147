import { createHash } from 'node:crypto';

/** SHA-256 of the concatenation of `parts` (node:crypto; pure computation, no I/O). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
