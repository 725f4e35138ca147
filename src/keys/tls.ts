/**
 * `ceremony tls`, offline: a TLS server certificate issued by the root, for `serve --tls-cert
 * --tls-key`. The key is ECDSA P-256 (every TLS client has it, Go's included) whatever the root's
 * algorithm; the certificate names its hosts in subjectAltName (dNSName, iPAddress) and carries
 * extKeyUsage serverAuth. Clients trust it through the root: SSL_CERT_FILE=root-ca.pem for the go
 * command, or the root added to the system store.
 *
 * Files (never replaced; pass --out-name for a renewal): <base>.key (PKCS#8 PEM, 0600),
 * <base>.crt (the certificate), <base>-chain.pem (certificate then root).
 */
import { generateKeyPairSync } from 'node:crypto';
import { SumkeepError } from '../core/errors.ts';
import { issueCertificate, loadRootAuthority } from './authority.ts';
import { checkDays } from './ceremony.ts';
import { CreatedFiles, refuseExisting } from './files.ts';
import { ipShapedHost, parseIpAddress } from './ip.ts';
import { MODE_ONLINE_KEY, MODE_PUBLIC, TLS_DEFAULT_BASENAME } from './layout.ts';
import { toPem } from './pem.ts';
import { TLS_DEFAULT_DAYS, TLS_MAX_DAYS, tlsExtensions } from './profiles.ts';
import { certificateRows, writeRecord } from './record.ts';
import { commonNameOf, parseCertificate } from './x509.ts';

export interface TlsOptions {
  keysDir: string;
  rootDir?: string;
  hosts: string[];
  ips: string[];
  validDays?: number;
  /** File base name (default "tls"). */
  basename?: string;
  now?: number;
  /** Passphrase of an encrypted root-ca.key. */
  rootPassphrase?: string;
}

export interface TlsResult {
  created: { file: string; mode: number }[];
  keyFile: string;
  certFile: string;
  chainFile: string;
  notAfter: number;
  recordFile: string;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DNS_RE = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);

/**
 * A host name for dNSName: lowercase LDH labels, an optional leading "*." wildcard. A host written
 * like an IP address ("127.0.0.1", "127.1", "[::1]": ip.ts ipShapedHost) is refused: clients match
 * an address only against iPAddress entries, so such a dNSName would never be used.
 */
export function checkHostName(host: string): string {
  const ip = ipShapedHost(host);
  if (ip !== null) {
    const q = JSON.stringify(host);
    if (ip.address === null) {
      throw new SumkeepError(
        'config',
        `--host ${q} looks like an IP address but is not a valid one (nor a DNS name); give addresses with --ip`,
      );
    }
    const zone = /%/.test(host) ? ' (a certificate holds no zone id)' : '';
    const read =
      ip.address === host.toLowerCase().replace(/\.$/, '') || zone !== '' || host.startsWith('[')
        ? ''
        : ` (resolvers read it as ${ip.address})`;
    throw new SumkeepError(
      'config',
      `--host ${q} is an IP address${read}: pass it as --ip ${ip.address}${zone}`,
    );
  }
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h.length > 253 || !DNS_RE.test(h)) {
    throw new SumkeepError(
      'config',
      `--host ${JSON.stringify(host)}: not a DNS name (use --ip for addresses)`,
    );
  }
  return h;
}

export function issueTlsCertificate(o: TlsOptions): TlsResult {
  const now = o.now ?? Date.now();
  if (o.hosts.length + o.ips.length === 0) {
    throw new SumkeepError('config', 'tls: give at least one --host <name> or --ip <address>');
  }
  if (o.hosts.length + o.ips.length > 100) throw new SumkeepError('config', 'tls: at most 100 names');
  const hosts = [...new Set(o.hosts.map(checkHostName))];
  const ips = o.ips.map((ip) => {
    const b = parseIpAddress(ip);
    if (b === null)
      throw new SumkeepError('config', `--ip ${JSON.stringify(ip)}: not an IPv4 or IPv6 address`);
    return b;
  });
  const base = o.basename ?? TLS_DEFAULT_BASENAME;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(base)) {
    throw new SumkeepError('config', `--out-name ${JSON.stringify(base)}: want a plain file name`);
  }
  const days = checkDays(o.validDays, TLS_DEFAULT_DAYS, '--valid-days', TLS_MAX_DAYS);
  const names = { key: `${base}.key`, crt: `${base}.crt`, chain: `${base}-chain.pem` };
  refuseExisting(
    o.keysDir,
    Object.values(names),
    'pass --out-name <name> to issue a new TLS certificate beside it',
  );
  const root = loadRootAuthority(o.keysDir, o.rootDir ?? o.keysDir, now, {
    ...(o.rootPassphrase === undefined ? {} : { passphrase: o.rootPassphrase }),
  });

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = issueCertificate(root, {
    commonName: hosts[0] ?? o.ips[0]!,
    publicKey,
    extensions: tlsExtensions(hosts, ips, false),
    now,
    days,
  });
  const files = new CreatedFiles();
  const pem = toPem(der, 'CERTIFICATE');
  const keyFile = files.write(
    o.keysDir,
    names.key,
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    MODE_ONLINE_KEY,
  );
  const certFile = files.write(o.keysDir, names.crt, pem, MODE_PUBLIC);
  const chainFile = files.write(o.keysDir, names.chain, pem + root.pem, MODE_PUBLIC);
  const recordFile = writeRecord(o.keysDir, {
    ceremony: 'tls',
    time: now,
    name: (commonNameOf(root.parsed.subject) ?? '').replace(/^sumkeep (DEVELOPMENT )?root CA /, ''),
    sections: [
      {
        title: 'TLS server certificate',
        rows: [
          ['private key', keyFile],
          ['DNS names', hosts.join(', ') || '-'],
          ['IP addresses', o.ips.join(', ') || '-'],
          ...certificateRows(certFile, der),
        ],
      },
    ],
    checks: [
      `\`openssl verify -purpose sslserver -CAfile ${root.file} ${certFile}\` prints OK`,
      `the server will be started with --tls-cert ${certFile} --tls-key ${keyFile}`,
    ],
  });
  files.add(recordFile, MODE_PUBLIC);
  return {
    created: files.list,
    keyFile,
    certFile,
    chainFile,
    notAfter: parseCertificate(der).notAfter,
    recordFile,
  };
}
