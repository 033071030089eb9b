// Command tollgate is the tollgate charging and billing system in one binary.
//
//	tollgate serve [flags]          run the server
//	tollgate config check [flags]   print the effective configuration, or every problem in it
//	tollgate bench balance [flags]  benchmark the balance engine (docs/benchmarks.md)
//	tollgate version                print the version
//	tollgate help [command]         show help
//
// main stays small (STYLE habit 1): flags → config → validate → construct →
// run; the work lives in internal packages.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // runtime failure or invalid configuration
	exitUsage = 2 // bad command line
)

// defaultGOGC is the garbage collector target tollgate runs with unless
// the GOGC environment variable says otherwise. The balance engine keeps
// every account in memory; with Go's default of 100 a 1 M-account node
// spends long GC cycles that show up as latency stalls (open loop at
// 45k ops/s: p99 453 ms with GOGC=100, 52 ms with 400 — docs/benchmarks.md).
// The cost is memory: the heap may grow to five times the live data, up to
// the soft limit setMemoryLimit sets (GOMEMLIMIT overrides it).
const defaultGOGC = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGOGC)
	}
	setMemoryLimit(os.LookupEnv, "/proc/meminfo", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serveCmd(rest, stdout, stderr, lookup)
	case "ledger":
		return ledgerCmd(rest, stdout, stderr, lookup)
	case "config":
		return configCmd(rest, stdout, stderr, lookup)
	case "bench":
		return benchCmd(rest, stdout, stderr)
	case "version", "--version", "-version":
		return versionCmd(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		return helpCmd(rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "tollgate: unknown command %q\n\n", cmd)
		usage(stderr)
		return exitUsage
	}
}
