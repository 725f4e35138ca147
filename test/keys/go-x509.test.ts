/**
 * Go's crypto/x509 and crypto/tls accept what the ceremony issues, as each real client's own
 * standard library (the check program is built with the machine's Go 1.26 and with Debian's Go
 * 1.19: the go command verifies the server's certificate with the crypto/x509 it was built with),
 * for every root algorithm: the TLS certificate verifies for its names with serverAuth and
 * a real TLS handshake succeeds with SSL_CERT_FILE pointing at root-ca.pem (what the go command
 * reads); the note and response key certificates chain to the root but are refused as TLS server
 * certificates.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  clientNames,
  goClients,
  goEnv,
  requireClients,
  runGo,
  tempDir,
  type GoClient,
} from '../helpers/go.ts';
import { initAuthority } from '../../src/keys/ceremony.ts';
import { issueTlsCertificate } from '../../src/keys/tls.ts';

const run = promisify(execFile);

const CHECK_GO = `package main

// check verify <root.pem> <cert.pem> <host or IP> <server|any>
// check dial <host:port> <server name>     (roots from the system pool: SSL_CERT_FILE)
import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func cert(path string) *x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		fail(fmt.Errorf("%s: no PEM", path))
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fail(err)
	}
	return c
}

func fail(err error) {
	fmt.Println("error:", err)
	os.Exit(1)
}

func main() {
	switch os.Args[1] {
	case "verify":
		root, leaf := cert(os.Args[2]), cert(os.Args[3])
		pool := x509.NewCertPool()
		pool.AddCert(root)
		opts := x509.VerifyOptions{Roots: pool, DNSName: os.Args[4]}
		if os.Args[5] == "any" {
			opts.DNSName = ""
			opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
		}
		if _, err := leaf.Verify(opts); err != nil {
			fail(err)
		}
		fmt.Println("ok", leaf.SignatureAlgorithm)
	case "dial":
		conn, err := tls.Dial("tcp", os.Args[2], &tls.Config{ServerName: os.Args[3]})
		if err != nil {
			fail(err)
		}
		defer conn.Close()
		fmt.Println("ok", conn.ConnectionState().Version)
	}
}
`;

const root = tempDir('sumkeep-go-x509-');
/** The check program built by each present client, by client id. */
const checks = new Map<GoClient['id'], string>();

before(() => {
  const src = join(root, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'go.mod'), 'module sumkeep.test/check\n\ngo 1.19\n');
  writeFileSync(join(src, 'main.go'), CHECK_GO);
  for (const c of goClients()) {
    if (c.bin === null) continue; // the test fails (CI) or skips for it
    const out = join(root, `check-${c.id}`);
    const env = goEnv(join(root, c.id), { go: c.bin, GOPROXY: 'off' });
    const r = runGo(c.bin, ['build', '-o', out, '.'], { cwd: src, env });
    assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
    checks.set(c.id, out);
  }
});

function servers(): Server[] {
  return [];
}
const open = servers();
after(() => {
  for (const s of open) s.close();
});

async function goCheck(
  check: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await run(check, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      timeout: 60_000,
    });
    return { ok: true, out: r.stdout };
  } catch (e) {
    return { ok: false, out: String((e as { stdout?: string }).stdout ?? e) };
  }
}

describe(`Go crypto/x509 and crypto/tls (${clientNames()}) accept the ceremony certificates`, () => {
  for (const rootAlg of ['ed25519', 'rsa-pss-3072', 'rsa-pss-4096'] as const) {
    it(`root ${rootAlg}: TLS certificate verifies and serves a handshake; online key certificates are not TLS certificates`, async (t) => {
      const clients = requireClients(t);
      if (clients === null) return;
      const keys = join(root, rootAlg);
      initAuthority({ name: 'sum.go.test', keysDir: keys, rootAlg });
      const tls = issueTlsCertificate({
        keysDir: keys,
        hosts: ['localhost', 'sum.go.test'],
        ips: ['127.0.0.1'],
      });
      const rootPem = join(keys, 'root-ca.pem');
      const wantAlg = rootAlg === 'ed25519' ? 'Ed25519' : 'SHA256-RSAPSS';
      const server = createServer({ key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) }, (s) =>
        s.end('hello\n'),
      );
      open.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      const noDir = join(root, 'no-cert-dir');
      const other = join(root, `${rootAlg}-other`);
      initAuthority({ name: 'sum.go.test', keysDir: other });

      for (const c of clients) {
        const check = checks.get(c.id)!;
        for (const name of ['localhost', 'sum.go.test', '127.0.0.1']) {
          const r = await goCheck(check, ['verify', rootPem, tls.certFile, name, 'server']);
          assert.equal(r.ok, true, `${c.name} ${name}: ${r.out}`);
          assert.match(r.out, new RegExp(`^ok ${wantAlg}`), c.name);
        }
        const wrong = await goCheck(check, ['verify', rootPem, tls.certFile, 'other.test', 'server']);
        assert.equal(wrong.ok, false, c.name);
        assert.match(wrong.out, /certificate is valid for/, c.name);

        for (const crt of readdirSync(keys).filter((f) => /^(note|response-).*\.crt$/.test(f))) {
          const any = await goCheck(check, ['verify', rootPem, join(keys, crt), '', 'any']);
          assert.equal(any.ok, true, `${c.name} ${crt}: ${any.out}`);
          const asServer = await goCheck(check, ['verify', rootPem, join(keys, crt), 'localhost', 'server']);
          assert.equal(asServer.ok, false, `${c.name}: ${crt} must not pass as a TLS server certificate`);
        }

        const dial = await goCheck(check, ['dial', `127.0.0.1:${port}`, 'localhost'], {
          SSL_CERT_FILE: rootPem,
          SSL_CERT_DIR: noDir,
        });
        assert.equal(dial.ok, true, `${c.name}: ${dial.out}`);
        // Trusting another root must fail: the handshake really checked the chain.
        const refused = await goCheck(check, ['dial', `127.0.0.1:${port}`, 'localhost'], {
          SSL_CERT_FILE: join(other, 'root-ca.pem'),
          SSL_CERT_DIR: noDir,
        });
        assert.equal(refused.ok, false, c.name);
        assert.match(refused.out, /certificate signed by unknown authority/, c.name);
      }
      server.close();
    });
  }
});
