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
	"github.com/tollgate-billing/tollgate/internal/node"
	"github.com/tollgate-billing/tollgate/internal/server"
)

func serveCmd(args []string, _, stderr io.Writer, lookup func(string) (string, bool)) int {
	fs, cf := newConfigFlagSet("serve", "Run tollgate: admin API, metrics and health on --http-addr, cluster state\n"+
		"(embedded NATS JetStream unless --nats-url is set), and the subsystems.\n"+
		"SIGTERM or SIGINT shuts down gracefully; SIGHUP reloads tariff plans.", stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(cf, lookup)
	if err != nil {
		printProblems(stderr, "invalid configuration", err)
		return exitError
	}

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
	srv, err = server.New(cfg, server.Options{
		Logger:        logger,
		Registry:      reg,
		ReloadSignals: hup, // SIGHUP reloads the tariff plans (node's Reloader)
		API:           n.Handler(),
		Subsystems:    n.Subsystems(),
	})
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
