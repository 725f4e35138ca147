/** parsePkcs11Uri / formatPkcs11Uri (RFC 7512): the forms sumkeep accepts, and hostile input. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import {
  PIN_ENV,
  describeUri,
  formatPkcs11Uri,
  parsePkcs11Uri,
  type Pkcs11Uri,
} from '../../src/keys/pkcs11/uri.ts';

const LIB = '/usr/lib/softhsm/libsofthsm2.so';

/** A small deterministic PRNG (mulberry32), so that the random cases are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random string over `alphabet` (or any UTF-16 code unit) of up to `max` characters. */
function randomString(r: () => number, max: number, alphabet?: string): string {
  const n = Math.floor(r() * (max + 1));
  const chars = alphabet === undefined ? [] : [...alphabet];
  let s = '';
  for (let i = 0; i < n; i++) {
    s +=
      alphabet === undefined
        ? String.fromCharCode(Math.floor(r() * 0x10000))
        : chars[Math.floor(r() * chars.length)];
  }
  return s;
}
const Q = `?module-path=${LIB}`;

const refused = (re: RegExp) => (e: unknown) =>
  isSumkeepError(e, 'config') && e.message.startsWith('invalid PKCS#11 URI: ') && re.test(e.message);

describe('parsePkcs11Uri', () => {
  it('reads the form of the issue, with pin-source', () => {
    const u = parsePkcs11Uri(`pkcs11:token=sumkeep;object=note${Q}&pin-source=file:/etc/sumkeep/pin`);
    assert.deepEqual(u, {
      token: 'sumkeep',
      object: 'note',
      modulePath: LIB,
      pinSource: { kind: 'file', path: '/etc/sumkeep/pin' },
    });
  });

  it('takes the PIN from SUMKEEP_PKCS11_PIN without pin-source', () => {
    assert.deepEqual(parsePkcs11Uri(`pkcs11:token=t;object=k${Q}`).pinSource, { kind: 'env', name: PIN_ENV });
  });

  it('decodes percent-encoding in labels, ids and paths; accepts file:/// and type=private', () => {
    const u = parsePkcs11Uri(
      'pkcs11:token=My%20Token;serial=0123abcd;slot-id=862267211;object=note%3Bkey;id=%01%02%FF;type=private' +
        '?module-path=/opt/hsm%20lib/libp11.so&pin-source=file:///run/pin%20file',
    );
    assert.equal(u.token, 'My Token');
    assert.equal(u.serial, '0123abcd');
    assert.equal(u.slotId, 862267211);
    assert.equal(u.object, 'note;key');
    assert.deepEqual([...u.id!], [1, 2, 255]);
    assert.equal(u.modulePath, '/opt/hsm lib/libp11.so');
    assert.deepEqual(u.pinSource, { kind: 'file', path: '/run/pin file' });
    assert.equal(describeUri(u), 'token "My Token" key "note;key"');
  });

  it('accepts UTF-8 labels and names the key by id alone', () => {
    const u = parsePkcs11Uri(`pkcs11:token=%C3%A9t%C3%A9;id=%2A${Q}`);
    assert.equal(u.token, 'été');
    assert.equal(describeUri(u), 'token "été" key id 2a');
  });

  const cases: [string, string, RegExp][] = [
    ['another scheme', `pkcs12:token=t;object=k${Q}`, /does not start with "pkcs11:"/],
    ['upper-case scheme', `PKCS11:token=t;object=k${Q}`, /does not start/],
    ['no token', `pkcs11:object=k${Q}`, /name the token/],
    ['no key', `pkcs11:token=t${Q}`, /name the key/],
    ['no module-path', 'pkcs11:token=t;object=k', /module-path=.* is missing/],
    ['relative module-path', 'pkcs11:token=t;object=k?module-path=libsofthsm2.so', /absolute path/],
    [
      'module-path with ..',
      'pkcs11:token=t;object=k?module-path=/usr/../tmp/evil.so',
      /must not contain "\.\."/,
    ],
    ['pin-value', `pkcs11:token=t;object=k${Q}&pin-value=1234`, /pin-value is refused/],
    ['module-name', 'pkcs11:token=t;object=k?module-name=softhsm2', /module-name is not supported/],
    ['pin-source not a file', `pkcs11:token=t;object=k${Q}&pin-source=env:PIN`, /pin-source must be file:/],
    ['pin-source relative', `pkcs11:token=t;object=k${Q}&pin-source=file:pin.txt`, /absolute path/],
    ['pin-source remote host', `pkcs11:token=t;object=k${Q}&pin-source=file://host/pin`, /file:\/\/\//],
    ['unknown path attribute', `pkcs11:token=t;object=k;colour=red${Q}`, /unknown path attribute colour/],
    ['vendor attribute', `pkcs11:token=t;object=k;x-vendor=1${Q}`, /unknown path attribute x-vendor/],
    ['manufacturer', `pkcs11:token=t;object=k;manufacturer=m${Q}`, /not supported here/],
    ['unknown query attribute', `pkcs11:token=t;object=k${Q}&debug=1`, /unknown query attribute debug/],
    ['query attribute in the path', 'pkcs11:token=t;object=k;module-path=%2Flib.so', /belongs in the query/],
    ['path attribute in the query', `pkcs11:token=t${Q}&object=k`, /belongs in the path/],
    ['attribute twice', `pkcs11:token=t;token=u;object=k${Q}`, /token given twice/],
    ['query attribute twice', `pkcs11:token=t;object=k${Q}&module-path=/x.so`, /module-path given twice/],
    ['empty attribute', `pkcs11:token=t;;object=k${Q}`, /name=value/],
    ['trailing ampersand', `pkcs11:token=t;object=k${Q}&`, /name=value/],
    ['no value form', `pkcs11:token${Q}`, /name=value/],
    ['empty value', `pkcs11:token=;object=k${Q}`, /token is empty/],
    ['bad percent', `pkcs11:token=t%2;object=k${Q}`, /does not allow/],
    ['percent non-hex', `pkcs11:token=t%zz;object=k${Q}`, /does not allow/],
    ['space', `pkcs11:token=my token;object=k${Q}`, /does not allow/],
    ['slash in path', `pkcs11:token=a/b;object=k${Q}`, /does not allow/],
    ['fragment', `pkcs11:token=t;object=k${Q}#x`, /fragment/],
    ['NUL', `pkcs11:token=t%00;object=k${Q}`, /control character/],
    ['newline', `pkcs11:token=t;object=k%0A${Q}`, /control character/],
    ['not UTF-8', `pkcs11:token=%FF%FE;object=k${Q}`, /not UTF-8/],
    ['long token label', `pkcs11:token=${'a'.repeat(33)};object=k${Q}`, /longer than 32 bytes/],
    ['long serial', `pkcs11:serial=${'1'.repeat(17)};object=k${Q}`, /longer than 16 bytes/],
    ['slot-id not decimal', `pkcs11:slot-id=0x10;object=k${Q}`, /slot-id must be a decimal/],
    ['slot-id leading zero', `pkcs11:slot-id=010;object=k${Q}`, /slot-id must be a decimal/],
    ['slot-id huge', `pkcs11:slot-id=${'9'.repeat(19)};object=k${Q}`, /slot-id/],
    ['type public', `pkcs11:token=t;object=k;type=public${Q}`, /type must be "private"/],
    ['upper-case name', `pkcs11:Token=t;object=k${Q}`, /attribute name outside/],
    ['huge', `pkcs11:token=t;object=${'k'.repeat(5000)}${Q}`, /longer than 4096/],
  ];
  for (const [what, uri, re] of cases) {
    it(`refuses ${what}`, () => assert.throws(() => parsePkcs11Uri(uri), refused(re)));
  }

  it('never quotes a pin-value in its message', () => {
    try {
      parsePkcs11Uri(`pkcs11:token=t;object=k${Q}&pin-value=s3cr3t-PIN`);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(!(e as Error).message.includes('s3cr3t'));
    }
  });

  it('throws only config errors for random strings', () => {
    const r = rng(7512);
    const uriChars =
      "pkcs11:;?&=%/._-~tokenobjectmodule-pathpin-sourcefile:0123456789ABCDEFabcdef!$'()*+,[]@|# ";
    for (let i = 0; i < 3000; i++) {
      const tail = i % 2 === 0 ? randomString(r, 120, uriChars) : randomString(r, 60);
      for (const s of [`pkcs11:${tail}`, `pkcs11:token=t;object=k?${tail}`, tail]) {
        try {
          parsePkcs11Uri(s);
        } catch (e) {
          if (!isSumkeepError(e, 'config')) throw e;
        }
      }
    }
  });
});

describe('formatPkcs11Uri', () => {
  it('writes the canonical form, type=private, no PIN', () => {
    const u = parsePkcs11Uri(`pkcs11:object=note;token=sumkeep${Q}&pin-source=file:/p`);
    assert.equal(
      formatPkcs11Uri(u),
      `pkcs11:token=sumkeep;object=note;type=private?module-path=${LIB}&pin-source=file:///p`,
    );
  });

  it('round-trips random URIs: parse(format(u)) = u, and format is stable', () => {
    const r = rng(2024);
    const labelChars = 'abcXYZ019 ;&?=%/#~._-\u00e9\u65e5\u{1F511}';
    const label = () => {
      let s = '';
      while (s === '' || Buffer.byteLength(s) > 32) s = randomString(r, 8, [...labelChars].join(''));
      return s;
    };
    const path = () =>
      '/' +
      Array.from({ length: 1 + Math.floor(r() * 3) }, () => label())
        .join('/')
        .replace(/\.\./g, 'x');
    for (let i = 0; i < 500; i++) {
      const u: Pkcs11Uri = {
        token: label(),
        modulePath: path(),
        pinSource: r() < 0.5 ? { kind: 'env', name: PIN_ENV } : { kind: 'file', path: path() },
        object: label(),
        ...(r() < 0.5
          ? { id: Uint8Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)) }
          : {}),
        ...(r() < 0.3 ? { slotId: Math.floor(r() * 2 ** 40) } : {}),
        ...(r() < 0.3 ? { serial: randomString(r, 15, '0123456789abcdef') || '0' } : {}),
      };
      const text = formatPkcs11Uri(u);
      const back = parsePkcs11Uri(text);
      assert.deepEqual({ ...back, id: back.id && [...back.id] }, { ...u, id: u.id && [...u.id] }, text);
      assert.equal(formatPkcs11Uri(back), text);
    }
  });
});
