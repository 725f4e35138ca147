/**
 * Exact integer arithmetic on JavaScript numbers for tree coordinates.
 *
 * Record counts and stored-hash indexes are plain numbers: exact up to 2^53 - 1. The 32-bit
 * bit operators (`>>`, `&`, `<<`) would silently wrap above 2^31, so shifts are written as
 * multiplication and floored division by powers of two, which are exact in that range.
 */

/** 2^k for 0 <= k (exact; Infinity above 2^1023, which every caller treats as "too big"). */
export function pow2(k: number): number {
  return 2 ** k;
}

/** floor(n / 2^k): the unsigned right shift n >> k, exact for any safe non-negative n. */
export function shr(n: number, k: number): number {
  return Math.floor(n / 2 ** k);
}

/** True when n is an integer in 0..2^53-1. */
export function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Number of trailing zero bits of n (n a safe positive integer). */
export function trailingZeros(n: number): number {
  let z = 0;
  while (n % 2 === 0 && n > 0) {
    n /= 2;
    z++;
  }
  return z;
}

/**
 * The largest power of two strictly smaller than n, as [k, log2 k]; for n <= 2 that is [1, 0].
 * This is where RFC 6962 splits a range of n leaves into a full left subtree and the rest.
 */
export function maxPow2Below(n: number): [k: number, level: number] {
  let level = 0;
  let k = 1;
  while (k * 2 < n) {
    k *= 2;
    level++;
  }
  return [k, level];
}
