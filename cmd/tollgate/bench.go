package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/tollgate-billing/tollgate/internal/bench"
	units "github.com/tollgate-billing/tollgate/internal/usage"
)

const benchUsage = `Usage: tollgate bench <flow> [flags]

Load generators that run in this process and print throughput and latency
percentiles (docs/benchmarks.md). Flows:
  balance   durable balance operations: embedded JetStream, reserve + commit
  chf       Nchf_ConvergedCharging against a running tollgate serve: SMF
            sessions and SMSF events over HTTP/2

Run "tollgate bench <flow> -h" for a flow's flags.
`

func benchCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return exitUsage
	}
	switch args[0] {
	case "balance":
		return benchBalanceCmd(args[1:], stdout, stderr)
	case "chf":
		return benchCHFCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, benchUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "tollgate bench: unknown flow %q\n\n%s", args[0], benchUsage)
	return exitUsage
}

// benchBalanceOpts is the command line of `tollgate bench balance`.
type benchBalanceOpts struct {
	cfg        bench.BalanceConfig
	json       bool
	cpuProfile string
	recProfile string
	tracePath  string
}

// parseBenchBalance parses the flags; ok is false when the command should
// not go on (-h, or a usage error already written to w).
func parseBenchBalance(args []string, w io.Writer) (benchBalanceOpts, int, bool) {
	o := benchBalanceOpts{cfg: bench.DefaultBalanceConfig()}
	c := &o.cfg
	fs := flag.NewFlagSet("bench balance", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.IntVar(&c.Accounts, "accounts", c.Accounts, "accounts opened and topped up in the setup; the load picks among them uniformly")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured load duration (after --warmup)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "load before the measurement, not counted")
	fs.IntVar(&c.Rate, "rate", c.Rate, "target operations per second, open loop; 0 = as fast as possible (closed loop)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "concurrent requesters (operations in flight at most)")
	fs.IntVar(&c.Partitions, "partitions", c.Partitions, "engine partitions")
	fs.IntVar(&c.MaxBatch, "max-batch", c.MaxBatch, "ops per group commit at most (0 = engine default)")
	fs.IntVar(&c.SnapshotEvery, "snapshot-every", c.SnapshotEvery, "journal records between partition snapshots (0 = engine default)")
	fs.StringVar(&c.Sync, "sync", c.Sync, "embedded JetStream fsync policy: always or interval")
	fs.DurationVar(&c.SyncInterval, "sync-interval", c.SyncInterval, "fsync period with --sync interval")
	fs.StringVar(&c.DataDir, "data-dir", "", "directory for the NATS store and SQLite ledger (default: a new temporary directory)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the data directory (and PostgreSQL schema) after the run")
	fs.StringVar(&c.Ledger, "ledger", c.Ledger, "project the journal into an SQL ledger during the load: none, sqlite or postgres")
	fs.StringVar(&c.PostgresDSN, "postgres-dsn", "", "PostgreSQL DSN for --ledger postgres (a fresh schema is created in it and dropped after)")
	fs.BoolVar(&c.Recovery, "recovery", false, "after the load, time restarts after a crash and after a clean stop")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the random account choice")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase to `FILE` (go tool pprof)")
	fs.StringVar(&o.tracePath, "trace", "", "write a Go execution trace of the load phase to `FILE` (go tool trace); keep --duration short")
	fs.StringVar(&o.recProfile, "recovery-cpuprofile", "", "with --recovery: write a CPU profile of the restart after the crash to `FILE`")
	fs.Usage = func() {
		fmt.Fprint(w, "Usage: tollgate bench balance [flags]\n\n"+
			"Open --accounts prepaid accounts on an embedded JetStream (--sync), then run\n"+
			"reserve + commit pairs on random accounts and report operations per second,\n"+
			"latency percentiles, group-commit sizes, ledger projection lag (--ledger)\n"+
			"and recovery times (--recovery).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return o, code, false
	}
	if err := c.Validate(); err != nil {
		printProblems(w, "invalid flags", err)
		return o, exitUsage, false
	}
	return o, exitOK, true
}

func benchBalanceCmd(args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseBenchBalance(args, stderr)
	if !ok {
		return code
	}
	for _, pf := range []struct {
		path string
		dst  *io.Writer
	}{{o.cpuProfile, &o.cfg.CPUProfile}, {o.recProfile, &o.cfg.RecoveryProfile}, {o.tracePath, &o.cfg.Trace}} {
		if pf.path == "" {
			continue
		}
		f, err := os.Create(pf.path)
		if err != nil {
			fmt.Fprintf(stderr, "tollgate bench: %v\n", err)
			return exitError
		}
		defer f.Close()
		*pf.dst = f
	}
	o.cfg.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunBalance(ctx, o.cfg)
	if rep != nil {
		err = errors.Join(err, writeReport(stdout, rep, o.json))
	}
	return benchExit(stderr, "balance", err)
}

// writeReport prints a bench report as text, or as indented JSON.
func writeReport(w io.Writer, rep interface{ WriteText(io.Writer) error }, asJSON bool) error {
	if !asJSON {
		return rep.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// benchExit reports a bench command's error and gives its exit code.
func benchExit(stderr io.Writer, name string, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "tollgate bench %s: %v\n", name, err)
		return exitError
	}
	return exitOK
}

// benchCHFOpts is the command line of `tollgate bench chf`.
type benchCHFOpts struct {
	cfg        bench.CHFConfig
	json       bool
	cpuProfile string
}

// quantityValue is a flag holding a quantity of a unit ("10MiB", "5m").
type quantityValue struct {
	unit units.Unit
	get  func() uint64
	set  func(uint64) error
}

func (q quantityValue) String() string {
	if q.get == nil {
		return ""
	}
	return units.FormatQuantity(q.get(), q.unit)
}

func (q quantityValue) Set(s string) error {
	n, err := units.ParseQuantity(s, q.unit)
	if err != nil {
		return err
	}
	return q.set(n)
}

// parseBenchCHF parses the flags; ok is false when the command should not
// go on (-h, or a usage error already written to w).
func parseBenchCHF(args []string, w io.Writer) (benchCHFOpts, int, bool) {
	o := benchCHFOpts{cfg: bench.DefaultCHFConfig()}
	c := &o.cfg
	fs := flag.NewFlagSet("bench chf", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&c.SBI, "sbi", c.SBI, "Nchf base `URL`: http:// = HTTP/2 cleartext (prior knowledge), https:// = HTTP/2 over TLS")
	fs.BoolVar(&c.InsecureSkipVerify, "insecure-skip-verify", false, "with an https:// SBI: accept any certificate")
	fs.StringVar(&c.API, "api", c.API, "admin API base `URL`, for the setup")
	fs.BoolVar(&c.Setup, "setup", c.Setup, "provision the plan "+bench.CHFPlanID+" and, per subscriber, an account, a subscriber, the plan assignment and a top-up (idempotent; --setup=false skips it)")
	fs.IntVar(&c.Subscribers, "subscribers", c.Subscribers, "subscribers bench-chf-0 … (SUPI imsi-00101 + 10 digits); the load picks among them uniformly")
	fs.StringVar(&c.TopUp, "topup", c.TopUp, "top-up per account in the setup, EUR")
	fs.BoolVar(&c.TopUpAgain, "topup-again", false, "top up again on this run (by default the top-up key is fixed, so a repeated setup adds nothing)")
	fs.IntVar(&c.SetupConcurrency, "setup-concurrency", c.SetupConcurrency, "subscribers provisioned at once")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured load duration (after --warmup)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "load before the measurement, not counted")
	fs.IntVar(&c.Rate, "rate", c.Rate, "target requests per second, open loop; 0 = as fast as possible (closed loop)")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "workers: requests in flight at most (each drives one PDU session at a time)")
	fs.IntVar(&c.Connections, "connections", c.Connections, "HTTP/2 connections; worker w uses connection w mod N")
	fs.IntVar(&c.Updates, "updates", c.Updates, "updates per session between create and release")
	fs.Float64Var(&c.VoiceShare, "voice-share", c.VoiceShare, "fraction of sessions that also charge voice (rating group 20) besides data (10)")
	fs.Float64Var(&c.SMSShare, "sms-share", c.SMSShare, "fraction of requests that are SMS one-time events (rating group 30)")
	fs.Var(quantityValue{units.Byte, func() uint64 { return c.DataRequest },
		func(n uint64) error { c.DataRequest = n; return nil }},
		"data-request", "data volume (`SIZE`: bytes, or 10MiB, 1GB …) requested per grant on rating group 10")
	fs.Var(quantityValue{units.Second, func() uint64 { return uint64(c.VoiceRequest) },
		func(n uint64) error {
			if n > math.MaxUint32 {
				return fmt.Errorf("%d seconds is more than a uint32", n)
			}
			c.VoiceRequest = uint32(n)
			return nil
		}},
		"voice-request", "voice time (`TIME`: seconds, or 5m …) requested per grant on rating group 20")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "timeout of each request")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the random choices (subscribers, session shapes, usage)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the generator (the whole run) to `FILE` (go tool pprof); profile the server with serve --http-pprof")
	fs.Usage = func() {
		fmt.Fprint(w, "Usage: tollgate bench chf [flags]\n\n"+
			"Drive a running tollgate (tollgate serve) the way SMFs and SMSFs do, over\n"+
			"HTTP/2: PDU sessions (create, --updates updates reporting used units and\n"+
			"requesting more, release) and SMS one-time events on Nchf_ConvergedCharging\n"+
			"v3, and report requests per second, latency percentiles, HTTP statuses,\n"+
			"ProblemDetails causes and result codes per request kind. The setup first\n"+
			"provisions subscribers through the admin API (not measured).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return o, code, false
	}
	if err := c.Validate(); err != nil {
		printProblems(w, "invalid flags", err)
		return o, exitUsage, false
	}
	return o, exitOK, true
}

func benchCHFCmd(args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseBenchCHF(args, stderr)
	if !ok {
		return code
	}
	o.cfg.Progress = stderr
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			defer f.Close()
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "tollgate bench: %v\n", err)
			return exitError
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunCHF(ctx, o.cfg)
	if rep != nil {
		err = errors.Join(err, writeReport(stdout, rep, o.json))
	}
	return benchExit(stderr, "chf", err)
}
