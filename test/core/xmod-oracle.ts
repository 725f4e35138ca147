/**
 * Test helper: asks Go's own golang.org/x/mod (module, semver) and path.Match for answers, so
 * the TypeScript rules can be checked against the reference on many generated inputs.
 *
 * Builds a small Go program with the machine's go once per test process, as a module whose
 * golang.org/x/mod is replaced by Debian's sources (golang-golang-x-mod-dev, the x/mod the tests
 * are written against), offline: goEnv's GOPROXY=off, GOTOOLCHAIN=local, GOFLAGS=-mod=mod. When
 * `go` or the sources are missing, `oracle()` returns a skip reason, unless CI=true, where it
 * throws.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findGo, goEnv, runGo, tempDir } from '../helpers/go.ts';

/** Debian's golang-golang-x-mod-dev sources. */
const XMOD = '/usr/share/gocode/src/golang.org/x/mod';

// A replace by a directory needs no go.sum line and no download; x/mod's own requirement
// (golang.org/x/tools) is never loaded by a build of these packages (graph pruning, go >= 1.17).
const GO_MOD = `module sumkeep.test/xmodoracle

go 1.19

require golang.org/x/mod v0.7.0

replace golang.org/x/mod => ${XMOD}
`;

const PROGRAM = `package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

type req struct {
	Op string \`json:"op"\`
	A  string \`json:"a"\`
	B  string \`json:"b"\`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	out := json.NewEncoder(w)
	for in.Scan() {
		var r req
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			panic(err)
		}
		var res any
		switch r.Op {
		case "checkPath":
			res = module.CheckPath(r.A) == nil
		case "checkImportPath":
			res = module.CheckImportPath(r.A) == nil
		case "checkFilePath":
			res = module.CheckFilePath(r.A) == nil
		case "splitPathVersion":
			p, m, ok := module.SplitPathVersion(r.A)
			res = []any{p, m, ok}
		case "escapePath":
			s, err := module.EscapePath(r.A)
			res = []any{s, err == nil}
		case "escapeVersion":
			s, err := module.EscapeVersion(r.A)
			res = []any{s, err == nil}
		case "unescapePath":
			s, err := module.UnescapePath(r.A)
			res = []any{s, err == nil}
		case "unescapeVersion":
			s, err := module.UnescapeVersion(r.A)
			res = []any{s, err == nil}
		case "isValid":
			res = semver.IsValid(r.A)
		case "canonical":
			res = semver.Canonical(r.A)
		case "major":
			res = semver.Major(r.A)
		case "prerelease":
			res = semver.Prerelease(r.A)
		case "build":
			res = semver.Build(r.A)
		case "compare":
			res = semver.Compare(r.A, r.B)
		case "isPseudo":
			res = module.IsPseudoVersion(r.A)
		case "pseudoBase":
			b, err := module.PseudoVersionBase(r.A)
			res = []any{b, err == nil}
		case "pseudoTime":
			_, err := module.PseudoVersionTime(r.A)
			res = err == nil
		case "checkPathMajor":
			res = module.CheckPathMajor(r.A, r.B) == nil
		case "matchPrefix":
			res = module.MatchPrefixPatterns(r.A, r.B)
		case "pathMatch":
			m, err := path.Match(r.A, r.B)
			res = m && err == nil
		case "badPattern":
			_, err := path.Match(r.A, "")
			res = err == path.ErrBadPattern
		default:
			panic("unknown op " + r.Op)
		}
		if err := out.Encode(res); err != nil {
			panic(err)
		}
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}
`;

export interface OracleRequest {
  op: string;
  a: string;
  b?: string;
}

export type Oracle = (reqs: readonly OracleRequest[]) => unknown[];

let built: { run: Oracle } | { skip: string } | undefined;

function unavailable(reason: string): { skip: string } {
  if (process.env.CI === 'true') throw new Error(`Go reference unavailable in CI: ${reason}`);
  return { skip: reason };
}

function build(): { run: Oracle } | { skip: string } {
  if (!existsSync(join(XMOD, 'module/module.go'))) {
    return unavailable(
      `golang.org/x/mod sources not found in ${XMOD} (apt-get install golang-golang-x-mod-dev)`,
    );
  }
  const go = findGo();
  if (go === null) return unavailable('the go command is not installed (apt-get install golang-go)');
  const dir = tempDir('sumkeep-xmod-');
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'go.mod'), GO_MOD);
  writeFileSync(join(src, 'main.go'), PROGRAM);
  const bin = join(dir, 'oracle');
  const r = runGo(go, ['build', '-o', bin, '.'], { cwd: src, env: goEnv(dir, { go, GOPROXY: 'off' }) });
  if (r.status !== 0) throw new Error(`building the Go oracle failed:\n${r.stderr}`);
  const run: Oracle = (reqs) => {
    const input = reqs.map((q) => JSON.stringify({ op: q.op, a: q.a, b: q.b ?? '' })).join('\n') + '\n';
    const o = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (o.status !== 0) throw new Error(`Go oracle failed: ${o.stderr}`);
    const lines = o.stdout.split('\n').filter((l) => l !== '');
    if (lines.length !== reqs.length) throw new Error(`Go oracle answered ${lines.length} of ${reqs.length}`);
    return lines.map((l) => JSON.parse(l) as unknown);
  };
  return { run };
}

/** The Go reference, or the reason it cannot run here (never a reason under CI=true). */
export function oracle(): { run: Oracle } | { skip: string } {
  built ??= build();
  return built;
}

/** Deterministic PRNG (mulberry32), so generated cases are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random string of `len` characters drawn from `alphabet` (split by code points). */
export function randomString(r: () => number, alphabet: string, len: number): string {
  const chars = Array.from(alphabet);
  let s = '';
  for (let i = 0; i < len; i++) s += chars[Math.floor(r() * chars.length)]!;
  return s;
}

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}
