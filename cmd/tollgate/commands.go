package main

import (
	"fmt"
	"io"

	"github.com/tollgate-billing/tollgate/internal/version"
)

func usage(w io.Writer) {
	fmt.Fprint(w, `tollgate: charging and billing in one binary

Usage:
  tollgate serve [flags]          run the server
  tollgate ledger [flags]         run the SQL ledger projection apart from serve (--nats-url)
  tollgate config check [flags]   print the effective configuration, or every problem in it
  tollgate bench balance [flags]  benchmark the balance engine (docs/benchmarks.md)
  tollgate version                print the version
  tollgate help [command]         show help for a command

Configuration, lowest precedence first: defaults, the YAML file (--config or
TOLLGATE_CONFIG), environment variables, flags. Environment variables:
`)
	fmt.Fprint(w, envHelp())
}

func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	switch args[0] {
	case "serve":
		return serveCmd([]string{"-h"}, stdout, stdout, noEnv)
	case "ledger":
		return ledgerCmd([]string{"-h"}, stdout, stdout, noEnv)
	case "config":
		return configCmd([]string{"check", "-h"}, stdout, stdout, noEnv)
	case "bench":
		return benchCmd(append(append([]string{}, args[1:]...), "-h"), stdout, stdout)
	case "version":
		fmt.Fprintln(stdout, "Usage: tollgate version\n\nPrint the version, commit and build date.")
		return exitOK
	}
	fmt.Fprintf(stderr, "tollgate help: unknown command %q\n", args[0])
	return exitUsage
}

func noEnv(string) (string, bool) { return "", false }

func versionCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "tollgate version: unexpected argument %q\n", args[0])
		return exitUsage
	}
	fmt.Fprintln(stdout, version.String())
	return exitOK
}

func configCmd(args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, "Usage: tollgate config check [flags]\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	cfg, code, ok := commandConfig("config check", "Print the effective configuration (defaults, file, environment and flags\n"+
		"merged; passwords redacted) and exit 0, or list every problem and exit 1.", args[1:], stderr, lookup)
	if !ok {
		return code
	}
	fmt.Fprintf(stdout, "# tollgate effective configuration (secrets redacted)\n%s", cfg)
	return exitOK
}
