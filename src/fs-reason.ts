/**
 * A failed system call described without its paths. Node's errors say
 * "ENOTDIR: not a directory, mkdtemp '/tmp/x/sumkeep-upstream-AbC'": the path is useless to a
 * client and, for a temporary file or the file:// mirror, a local detail no answer or log line of
 * a lookup may show. What is kept is what an operator acts on: the error code, libuv's description
 * and the system call, e.g. "ENOTDIR: not a directory (mkdtemp)".
 */
export function fsReason(e: unknown): string {
  const err = (typeof e === 'object' && e !== null ? e : {}) as {
    code?: unknown;
    syscall?: unknown;
    message?: unknown;
  };
  const code = typeof err.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(err.code) ? err.code : null;
  if (code === null) return 'system error';
  // The description runs from after "CODE: " to the first comma; letters, digits, spaces, "/" and
  // "-" only, so that nothing quoted (a path) can come along.
  const desc =
    typeof err.message === 'string'
      ? /^[A-Z0-9_]+: ([a-z][a-z0-9 /-]{0,100})(?:,|$)/.exec(err.message)?.[1]
      : undefined;
  const syscall =
    typeof err.syscall === 'string' && /^[a-z0-9_]{1,32}$/.test(err.syscall) ? ` (${err.syscall})` : '';
  return `${code}${desc !== undefined ? ': ' + desc : ''}${syscall}`;
}
