// Command hashzip runs Go's own module zip hashing (golang.org/x/mod/sumdb/dirhash.HashZip, what
// the go command uses for go.sum) for sumkeep's benchmark (bench/hash.ts):
//
//	hashzip [-n N] <zip>
//
// hashes the zip N times and prints one JSON object:
//
//	{"h1":"h1:...","times_ms":[...],"max_rss_kib":...}
//
// times_ms are wall-clock times of each HashZip call; max_rss_kib is the process's peak resident
// set size in KiB: VmHWM from /proc/self/status, which belongs to this program's own address
// space. getrusage's ru_maxrss is only the fallback: Linux carries it across fork and exec, so a
// program started by a large parent reports at least the parent's size.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/dirhash"
)

type hashResult struct {
	H1        string    `json:"h1"`
	TimesMs   []float64 `json:"times_ms"`
	MaxRSSKiB int64     `json:"max_rss_kib"`
}

func maxRSS() int64 {
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				if kib, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					return kib
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Maxrss)
}

func run(args []string) int {
	fs := flag.NewFlagSet("hashzip", flag.ExitOnError)
	n := fs.Int("n", 1, "iterations")
	fs.Parse(args)
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: hashzip [-n N] <zip>")
		return 2
	}
	var res hashResult
	for i := 0; i < *n; i++ {
		start := time.Now()
		h, err := dirhash.HashZip(fs.Arg(0), dirhash.Hash1)
		elapsed := time.Since(start)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		res.H1 = h
		res.TimesMs = append(res.TimesMs, float64(elapsed.Microseconds())/1000)
	}
	res.MaxRSSKiB = maxRSS()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return 0
}

func main() {
	os.Exit(run(os.Args[1:]))
}
