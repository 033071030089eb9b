package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/node"
	"github.com/tollgate-billing/tollgate/internal/server"
)

func serveCmd(args []string, _, stderr io.Writer, lookup func(string) (string, bool)) int {
	cfg, code, ok := commandConfig("serve", "Run tollgate: admin API, metrics and health on --http-addr, cluster state\n"+
		"(embedded NATS JetStream unless --nats-url is set), and the subsystems.\n"+
		"SIGTERM or SIGINT shuts down gracefully; SIGHUP reloads tariff plans.", args, stderr, lookup)
	if !ok {
		return code
	}
	return runServer(cfg, stderr, func(n *node.Node) server.Options {
		return server.Options{API: n.Handler(), Subsystems: n.Subsystems()}
	})
}

// ledgerCmd runs the SQL ledger projection on its own, for a serving node
// started with balance.ledger_projection false (docs/operations.md).
func ledgerCmd(args []string, _, stderr io.Writer, lookup func(string) (string, bool)) int {
	cfg, code, ok := commandConfig("ledger", "Run the SQL ledger projection of a serving node's balance journal, in this\n"+
		"process: for `tollgate serve --ledger-projection=false`, so that the projection's\n"+
		"CPU can be given a lower priority (nice) or another machine. --nats-url names\n"+
		"the serving node's NATS (its nats.embedded.listen, or the cluster's); the\n"+
		"records store is the serving node's (--store-dsn: its SQLite file or PostgreSQL).\n"+
		"Metrics and health on --http-addr. SIGTERM or SIGINT stops it after the\n"+
		"transaction in hand; what it had not written is projected by the next run.", args, stderr, lookup)
	if !ok {
		return code
	}
	if cfg.NATS.URL == "" {
		fmt.Fprintln(stderr, "tollgate ledger: --nats-url is required: the journal is in the serving node's NATS JetStream")
		return exitUsage
	}
	return runServer(cfg, stderr, func(n *node.Node) server.Options {
		return server.Options{Subsystems: n.LedgerSubsystems()}
	})
}

// commandConfig parses the config flags of command name over args and loads
// its configuration; when ok is false the command exits with code.
func commandConfig(name, help string, args []string, stderr io.Writer, lookup func(string) (string, bool)) (cfg config.Config, code int, ok bool) {
	fs, cf := newConfigFlagSet(name, help, stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return cfg, code, false
	}
	cfg, err := loadConfig(cf, lookup)
	if err != nil {
		printProblems(stderr, "invalid configuration", err)
		return cfg, exitError, false
	}
	return cfg, exitOK, true
}

// runServer runs a server with the options parts returns for its node until
// SIGTERM or SIGINT (a second one kills the process at once); SIGHUP
// reloads tariff plans.
func runServer(cfg config.Config, stderr io.Writer, parts func(*node.Node) server.Options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second SIGINT/SIGTERM kills the process at once
	}()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	logger := server.NewLogger(stderr, cfg.Log)
	reg := prometheus.NewRegistry()
	var srv *server.Server
	n := node.New(cfg, logger, reg, func() *clusterstate.Conn { return srv.Cluster() })
	opts := parts(n)
	opts.Logger, opts.Registry = logger, reg
	opts.ReloadSignals = hup // SIGHUP reloads the tariff plans (node's Reloader)
	srv, err := server.New(cfg, opts)
	if err != nil {
		fmt.Fprintf(stderr, "tollgate: %v\n", err)
		return exitError
	}
	if err := srv.Run(ctx); err != nil {
		srv.Logger().Error("tollgate failed", "err", err)
		return exitError
	}
	return exitOK
}
