// Command refserver is the Go reference for sumkeep's server benchmark (bench/server.ts): Go's own
// checksum database HTTP handler, golang.org/x/mod/sumdb.NewServer, over an in-memory log of the
// same records sumkeep serves, signed with the same note key.
//
//	refserver -records <file> -key <file> [-listen 127.0.0.1:0] [-batch 1000] [-mark N]
//
// <file> holds the record texts concatenated, two lines per record ("M V h1:...\nM V/go.mod
// h1:...\n"), in log order. The key file holds a note signer key (PRIVATE+KEY+...).
//
// Start-up builds the log the way a sequencer would, but in memory and without any durability:
// batches of -batch records get their stored hashes (tlog.StoredHashesForRecordHash), the new tree
// hash (tlog.TreeHash) and a signed tree head (note.Sign). It then listens and prints one JSON line
// on stdout:
//
//	{"addr":"127.0.0.1:port","records":N,"hash":"<base64 root>","seq_ms":T,"first_ms":A,"last_ms":B}
//
// seq_ms is the time to build the whole log, first_ms the time for its first -mark records and
// last_ms for its last -mark records (file reading excluded). The server answers until killed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memLog implements sumdb.ServerOps over memory. It is read-only once serving starts, so it needs
// no lock (sumdb.TestServer takes a mutex and signs on every request; a real server would not).
type memLog struct {
	records [][]byte
	hashes  []tlog.Hash
	lookup  map[string]int64
	signed  []byte
}

func (l *memLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("stored hash %d not in the log", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *memLog) Signed(ctx context.Context) ([]byte, error) { return l.signed, nil }

func (l *memLog) ReadRecords(ctx context.Context, id, n int64) ([][]byte, error) {
	if id < 0 || n < 0 || id+n > int64(len(l.records)) {
		return nil, os.ErrNotExist
	}
	return l.records[id : id+n], nil
}

func (l *memLog) Lookup(ctx context.Context, m module.Version) (int64, error) {
	id, ok := l.lookup[m.Path+"@"+m.Version]
	if !ok {
		return 0, os.ErrNotExist
	}
	return id, nil
}

func (l *memLog) ReadTileData(ctx context.Context, t tlog.Tile) ([]byte, error) {
	return tlog.ReadTileData(t, l)
}

// splitRecords cuts the file into records of exactly two lines each.
func splitRecords(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		a := bytes.IndexByte(data, '\n')
		if a < 0 {
			return nil, fmt.Errorf("record %d: missing newline", len(out))
		}
		b := bytes.IndexByte(data[a+1:], '\n')
		if b < 0 {
			return nil, fmt.Errorf("record %d: missing second line", len(out))
		}
		end := a + 1 + b + 1
		out = append(out, data[:end:end])
		data = data[end:]
	}
	return out, nil
}

// recordKey is "path@version" from the record's first line "path version h1:...".
func recordKey(rec []byte) (string, error) {
	f := strings.Fields(string(rec[:bytes.IndexByte(rec, '\n')]))
	if len(f) != 3 {
		return "", fmt.Errorf("bad record line %q", rec)
	}
	return f[0] + "@" + f[1], nil
}

func main() {
	recordsFile := flag.String("records", "", "file of record texts, two lines per record")
	keyFile := flag.String("key", "", "note signer key file (PRIVATE+KEY+...)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	batch := flag.Int("batch", 1000, "records per signed tree head while building the log")
	mark := flag.Int("mark", 100000, "report the time for the first and the last this many records")
	flag.Parse()
	if err := run(*recordsFile, *keyFile, *listen, *batch, *mark); err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(2)
	}
}

func run(recordsFile, keyFile, listen string, batch, mark int) error {
	if recordsFile == "" || keyFile == "" || batch < 1 {
		return fmt.Errorf("usage: refserver -records <file> -key <file> [-listen addr] [-batch n] [-mark n]")
	}
	skey, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return err
	}
	data, err := os.ReadFile(recordsFile)
	if err != nil {
		return err
	}
	records, err := splitRecords(data)
	if err != nil {
		return err
	}

	l := &memLog{
		records: records,
		hashes:  make([]tlog.Hash, 0, 2*len(records)+64),
		lookup:  make(map[string]int64, len(records)),
	}
	n := len(records)
	var firstMs, lastMs float64
	var th tlog.Hash
	start := time.Now()
	lastStart := start
	for lo := 0; lo < n; lo += batch {
		hi := lo + batch
		if hi > n {
			hi = n
		}
		if lo <= n-mark && n-mark < hi {
			// The last `mark` records may begin inside this batch; batches align when mark is a
			// multiple of the batch size, which the benchmark keeps.
			lastStart = time.Now()
		}
		for i := lo; i < hi; i++ {
			key, err := recordKey(records[i])
			if err != nil {
				return fmt.Errorf("record %d: %v", i, err)
			}
			if _, dup := l.lookup[key]; dup {
				return fmt.Errorf("record %d: %s is logged twice", i, key)
			}
			l.lookup[key] = int64(i)
			hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.RecordHash(records[i]), l)
			if err != nil {
				return err
			}
			l.hashes = append(l.hashes, hs...)
		}
		th, err = tlog.TreeHash(int64(hi), l)
		if err != nil {
			return err
		}
		l.signed, err = note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: int64(hi), Hash: th}))}, signer)
		if err != nil {
			return err
		}
		if hi == mark {
			firstMs = msSince(start)
		}
	}
	seqMs := msSince(start)
	lastMs = msSince(lastStart)

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := sumdb.NewServer(l)
	mux := http.NewServeMux()
	for _, p := range sumdb.ServerPaths {
		mux.Handle(p, srv)
	}
	line, _ := json.Marshal(map[string]any{
		"addr":     ln.Addr().String(),
		"records":  n,
		"hash":     th.String(),
		"seq_ms":   seqMs,
		"first_ms": firstMs,
		"last_ms":  lastMs,
	})
	os.Stdout.Write(append(line, '\n'))
	return http.Serve(ln, mux)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }
