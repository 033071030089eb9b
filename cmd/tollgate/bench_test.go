package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/bench"
)

func TestParseBenchBalance(t *testing.T) {
	def := bench.DefaultBalanceConfig()
	tests := []struct {
		name     string
		args     []string
		ok       bool
		code     int
		check    func(t *testing.T, o benchBalanceOpts)
		wantText []string // in the output, when !ok
	}{
		{name: "defaults", ok: true, check: func(t *testing.T, o benchBalanceOpts) {
			if o.cfg != def || o.cpuProfile != "" {
				t.Errorf("defaults differ from bench.DefaultBalanceConfig: %+v", o)
			}
			if o.cfg.Accounts != 1_000_000 || o.cfg.Duration != 20*time.Second || o.cfg.Rate != 0 ||
				o.cfg.Workers != 256 || o.cfg.Partitions != 32 || o.cfg.Sync != "always" ||
				o.cfg.Ledger != "none" || o.cfg.DataDir != "" || o.cfg.Keep || o.cfg.Recovery || o.json {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{name: "all flags", ok: true, args: []string{"--accounts", "1000", "--duration", "3s", "--warmup", "0s",
			"--rate", "5000", "--workers", "8", "--partitions", "4", "--max-batch", "64", "--snapshot-every", "100",
			"--sync", "interval", "--sync-interval", "200ms", "--data-dir", "/tmp/x", "--keep",
			"--ledger", "postgres", "--postgres-dsn", "postgres://u@h/db", "--recovery", "--seed", "7",
			"--json", "--cpuprofile", "cpu.out"},
			check: func(t *testing.T, o benchBalanceOpts) {
				c := o.cfg
				if c.Accounts != 1000 || c.Duration != 3*time.Second || c.Warmup != 0 || c.Rate != 5000 ||
					c.Workers != 8 || c.Partitions != 4 || c.MaxBatch != 64 || c.SnapshotEvery != 100 ||
					c.Sync != "interval" || c.SyncInterval != 200*time.Millisecond || c.DataDir != "/tmp/x" ||
					!c.Keep || c.Ledger != "postgres" || c.PostgresDSN != "postgres://u@h/db" || !c.Recovery ||
					c.Seed != 7 || !o.json || o.cpuProfile != "cpu.out" {
					t.Errorf("parsed: %+v", o)
				}
			}},
		{name: "help", args: []string{"-h"}, code: exitOK, wantText: []string{"Usage: tollgate bench balance", "-postgres-dsn"}},
		{name: "unknown flag", args: []string{"--nope"}, code: exitUsage, wantText: []string{"-nope"}},
		{name: "bad duration", args: []string{"--duration", "soon"}, code: exitUsage, wantText: []string{"-duration"}},
		{name: "extra argument", args: []string{"extra"}, code: exitUsage, wantText: []string{`unexpected argument "extra"`}},
		{name: "every problem at once", code: exitUsage,
			args: []string{"--sync", "never", "--ledger", "postgres", "--workers", "0", "--rate", "-1"},
			wantText: []string{"4 problems", `sync: must be always or interval; got "never"`,
				"postgres-dsn: required with ledger postgres", "workers: must be at least 1", "rate: must not be negative"}},
		{name: "dsn without postgres", code: exitUsage, args: []string{"--postgres-dsn", "postgres://x"},
			wantText: []string{"postgres-dsn: only used with ledger postgres"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			o, code, ok := parseBenchBalance(tt.args, &out)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v; output:\n%s", ok, tt.ok, out.String())
			}
			if ok {
				if out.Len() > 0 {
					t.Errorf("unexpected output: %s", out.String())
				}
				tt.check(t, o)
				return
			}
			if code != tt.code {
				t.Errorf("code = %d, want %d", code, tt.code)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestBenchCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"bench"}, exitUsage, "", "Usage: tollgate bench <flow>"},
		{[]string{"bench", "--help"}, exitOK, "balance", ""},
		{[]string{"bench", "nope"}, exitUsage, "", `unknown flow "nope"`},
		{[]string{"bench", "balance", "--sync", "never"}, exitUsage, "", "must be always or interval"},
		{[]string{"help", "bench"}, exitOK, "Usage: tollgate bench <flow>", ""},
		{[]string{"help", "bench", "balance"}, exitOK, "-accounts", ""},
		{[]string{"help"}, exitOK, "tollgate bench balance", ""},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, noEnv)
			if code != tt.code {
				t.Errorf("code = %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout lacks %q:\n%s", tt.out, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, stderr.String())
			}
		})
	}
}

func TestBenchBalanceRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded JetStream")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "balance", "--accounts", "200", "--duration", "300ms", "--warmup", "0s",
		"--workers", "8", "--partitions", "4", "--sync", "interval", "--data-dir", t.TempDir(), "--json"},
		&stdout, &stderr, noEnv)
	if code != exitOK {
		t.Fatalf("code %d; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"ops_per_sec"`) || !strings.Contains(stderr.String(), "bench: setup") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
