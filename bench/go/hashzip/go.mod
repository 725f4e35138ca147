module sumkeep.local/bench/hashzip

go 1.19

require golang.org/x/mod v0.7.0

// Debian's golang-golang-x-mod-dev sources: build with GOFLAGS=-mod=mod GOPROXY=off, no network.
replace golang.org/x/mod => /usr/share/gocode/src/golang.org/x/mod
