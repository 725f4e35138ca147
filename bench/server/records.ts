/**
 * The benchmark's log: record i is a deterministic, realistic-looking module version, the same on
 * every run and for both servers. The Lua scripts in wrk.ts rebuild a record's lookup path from i
 * alone, so `modulePath` and `moduleVersion` must stay in step with LUA_RECORD_TARGET.
 *
 *   path     github.com/org<i mod 1000>/repo<i>
 *   version  v1.<floor(i/8) mod 50>.<i mod 8>
 *   text     "<path> <version> h1:<base64 sha256("zip <i>")>\n<path> <version>/go.mod h1:<...("mod <i>")>\n"
 */
import { createHash } from 'node:crypto';
import { formatRecordLines } from '../../src/core/gosum.ts';

export interface BenchRecord {
  path: string;
  version: string;
  /** The record text exactly as logged. */
  text: string;
}

export const modulePath = (i: number): string => `github.com/org${i % 1000}/repo${i}`;
export const moduleVersion = (i: number): string => `v1.${Math.floor(i / 8) % 50}.${i % 8}`;

const h1 = (s: string): string => 'h1:' + createHash('sha256').update(s).digest('base64');

export function recordAt(i: number): BenchRecord {
  const path = modulePath(i);
  const version = moduleVersion(i);
  return { path, version, text: formatRecordLines(path, version, h1(`zip ${i}`), h1(`mod ${i}`)) };
}

/** Lua (LuaJIT, as in wrk) for `modulePath(i) .. "@" .. moduleVersion(i)`; no letter needs escaping. */
export const LUA_RECORD_TARGET = `
local function record_target(i)
  return "github.com/org" .. (i % 1000) .. "/repo" .. i .. "@v1." .. (math.floor(i / 8) % 50) .. "." .. (i % 8)
end
`;
