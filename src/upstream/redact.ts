/**
 * Keeping credentials out of messages. Proxies such as Artifactory are often configured as
 * `https://user:token@host/...`; no message, log line or error that sumkeep produces may carry the
 * `user:token@` part.
 */

/**
 * The URL without its userinfo (user name and password are both dropped: a user name alone is
 * often a token). Input that does not parse as a URL is scrubbed with {@link scrubUserinfo}.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return scrubUserinfo(url);
  }
  u.username = '';
  u.password = '';
  // URL adds "/" to an empty path; keep the text as the user wrote it.
  return u.href.endsWith('/') && !url.endsWith('/') ? u.href.slice(0, -1) : u.href;
}

const USERINFO_RE = /\/\/[^/?#\s@]*@/g;

/**
 * Removes anything that looks like `//userinfo@` from free text: the safety net applied to every
 * upstream error message, whatever produced it (fetch, the OS, a proxy).
 */
export function scrubUserinfo(text: string): string {
  return text.replace(USERINFO_RE, '//');
}
