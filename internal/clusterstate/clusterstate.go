package clusterstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-billing/tollgate/internal/config"
)

// Errors returned by this package.
var (
	// ErrJetStreamUnavailable means the NATS server answers but has no
	// JetStream for our account.
	ErrJetStreamUnavailable = errors.New("clusterstate: JetStream not available")
	// ErrServerStopped means the embedded server is not running.
	ErrServerStopped = errors.New("clusterstate: embedded NATS server stopped")
)

// Conn is an open cluster-state connection. It is safe for concurrent use.
type Conn struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	srv    *server.Server // the embedded server; nil when using an external one
	logger *slog.Logger

	closed    chan struct{} // closed when nc is closed
	closeOnce sync.Once
	closeErr  error

	// url and opts open further connections (Side).
	url   string
	opts  []nats.Option
	mu    sync.Mutex
	sides []*nats.Conn
}

// Open connects to the cluster state (S0.5). With cfg.URL empty it starts an
// embedded NATS server with JetStream in this process, storing its data in
// cfg.Embedded.StoreDir (default <dataDir>/nats) and listening on
// cfg.Embedded.Listen, or on no TCP port when that is empty; otherwise it
// connects to cfg.URL. In both cases it checks that JetStream answers. Open
// waits at most cfg.ConnectTimeout, or until ctx is done.
//
// The caller must Close the returned Conn.
func Open(ctx context.Context, cfg config.NATS, dataDir string, logger *slog.Logger) (*Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "nats")
	timeout := cfg.ConnectTimeout.Std()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c := &Conn{logger: logger, closed: make(chan struct{})}
	var closedOnce sync.Once
	opts := []nats.Option{
		nats.Timeout(timeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{"err", err}
			if sub != nil {
				attrs = append(attrs, "subject", sub.Subject)
			}
			logger.Error("NATS async error", attrs...)
		}),
	}

	var target string
	if cfg.URL == "" {
		srv, err := startEmbedded(ctx, cfg, dataDir, logger)
		if err != nil {
			return nil, err
		}
		c.srv = srv
		target = "embedded server"
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		target = redactedURL(cfg.URL)
		// Cluster state is essential: once connected, never give up reconnecting.
		opts = append(opts, nats.MaxReconnects(-1))
	}

	c.url, c.opts = cfg.URL, opts
	nc, err := nats.Connect(cfg.URL, append([]nats.Option{nats.Name("tollgate"),
		nats.ClosedHandler(func(*nats.Conn) { closedOnce.Do(func() { close(c.closed) }) })}, opts...)...)
	if err != nil {
		c.stopServer()
		return nil, fmt.Errorf("clusterstate: connect to %s: %w", target, err)
	}
	c.nc = nc
	fail := func(err error) (*Conn, error) {
		nc.Close()
		c.stopServer()
		return nil, err
	}

	js, err := jetstream.New(nc)
	if err != nil {
		return fail(fmt.Errorf("clusterstate: %w", err))
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return fail(fmt.Errorf("%w on %s: %v", ErrJetStreamUnavailable, target, err))
		}
		return fail(fmt.Errorf("clusterstate: JetStream on %s: %w", target, err))
	}
	c.js = js
	if c.srv != nil {
		logger.Info("cluster state: embedded NATS JetStream ready",
			"server_name", c.srv.Name(), "store_dir", storeDir(cfg, dataDir), "listen", c.ClientURL(),
			"sync", syncPolicy(cfg.Embedded))
	} else {
		logger.Info("cluster state: connected to NATS JetStream", "url", nc.ConnectedUrlRedacted(),
			"server", nc.ConnectedServerName(), "server_version", nc.ConnectedServerVersion())
	}
	return c, nil
}

func storeDir(cfg config.NATS, dataDir string) string {
	if cfg.Embedded.StoreDir != "" {
		return cfg.Embedded.StoreDir
	}
	return filepath.Join(dataDir, "nats")
}

// syncPolicy describes the fsync policy for the log.
func syncPolicy(e config.EmbeddedNATS) string {
	if e.Sync == config.SyncPolicyInterval {
		return "interval " + e.SyncInterval.String()
	}
	return config.SyncPolicyAlways
}

func startEmbedded(ctx context.Context, cfg config.NATS, dataDir string, logger *slog.Logger) (*server.Server, error) {
	e := cfg.Embedded
	dir := storeDir(cfg, dataDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("clusterstate: %w", err)
	}
	name := e.ServerName
	if name == "" {
		name = config.DefaultServerName
	}
	opts := &server.Options{
		ServerName:         name,
		JetStream:          true,
		StoreDir:           dir,
		JetStreamMaxMemory: int64(e.MaxMemory),
		JetStreamMaxStore:  int64(e.MaxStore),
		NoSigs:             true, // signals belong to tollgate
		DontListen:         e.Listen == "",
	}
	// Fsync policy (config.EmbeddedNATS.Sync, docs/operations.md
	// "Durability"). An empty policy (a config.NATS not built from
	// config.Default) is the safe one.
	switch e.Sync {
	case config.SyncPolicyInterval:
		if e.SyncInterval <= 0 {
			return nil, fmt.Errorf("clusterstate: nats.embedded.sync_interval must be positive, got %s", e.SyncInterval)
		}
		opts.SyncInterval = e.SyncInterval.Std()
	case config.SyncPolicyAlways, "":
		opts.SyncAlways = true
	default:
		return nil, fmt.Errorf("clusterstate: nats.embedded.sync: unknown policy %q", e.Sync)
	}
	if e.Listen != "" {
		host, port, err := net.SplitHostPort(e.Listen)
		if err != nil {
			return nil, fmt.Errorf("clusterstate: nats.embedded.listen: %w", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("clusterstate: nats.embedded.listen: invalid port %q", port)
		}
		if p == 0 {
			p = server.RANDOM_PORT // NATS reads port 0 as its default 4222
		}
		opts.Host, opts.Port = host, p
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			logger.Warn("embedded NATS listens beyond loopback without authentication; "+
				"restrict nats.embedded.listen to a private network", "listen", e.Listen)
		}
	}

	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("clusterstate: embedded NATS server: %w", err)
	}
	adapter := &slogAdapter{l: logger}
	srv.SetLoggerV2(adapter, logger.Enabled(ctx, slog.LevelDebug), logger.Enabled(ctx, LevelTrace), false)
	srv.Start()

	// Wait until ready, failing fast when the server reported a fatal error
	// (it then never becomes ready).
	for {
		if msg := adapter.fatal(); msg != "" {
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, fmt.Errorf("clusterstate: embedded NATS server: %s", msg)
		}
		if srv.ReadyForConnections(50*time.Millisecond) && srv.JetStreamEnabled() {
			return srv, nil
		}
		if ctx.Err() != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, fmt.Errorf("clusterstate: embedded NATS server not ready: %w", context.Cause(ctx))
		}
	}
}

// NC returns the NATS connection, for core NATS messaging (the bus between
// stages, DESIGN §3).
func (c *Conn) NC() *nats.Conn { return c.nc }

// JS returns the JetStream handle for streams and key-value buckets.
func (c *Conn) JS() jetstream.JetStream { return c.js }

// Embedded reports whether the NATS server runs inside this process.
func (c *Conn) Embedded() bool { return c.srv != nil }

// ClientURL returns the URL other processes can use to reach the embedded
// server, or "" when it listens on no port or the server is external.
func (c *Conn) ClientURL() string {
	if c.srv == nil || c.srv.Addr() == nil {
		return ""
	}
	return c.srv.ClientURL()
}

// Healthy returns nil when the connection (and the embedded server, if any)
// is up. It does not block.
func (c *Conn) Healthy() error {
	if c.srv != nil {
		if !c.srv.Running() {
			return ErrServerStopped
		}
		if !c.srv.JetStreamEnabled() {
			return fmt.Errorf("%w: disabled on the embedded server", ErrJetStreamUnavailable)
		}
	}
	if st := c.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("clusterstate: NATS connection %s", st)
	}
	return nil
}

// Close drains the connection (pending publishes are flushed, subscriptions
// finish their messages), then shuts the embedded server down and waits for
// it, so its JetStream files are consistent. If ctx ends before the drain
// completes, the connection is closed at once. Close is idempotent.
func (c *Conn) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.close(ctx) })
	return c.closeErr
}

// Side opens another connection to the same cluster state, for bulk
// traffic that must not queue in front of latency-sensitive messages on
// the main connection (a connection's writes are one ordered stream:
// megabytes of a snapshot upload would delay every journal append behind
// them). It is closed with c.
func (c *Conn) Side(name string) (jetstream.JetStream, error) {
	nc, err := nats.Connect(c.url, append([]nats.Option{nats.Name("tollgate-" + name)}, c.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("clusterstate: side connection %s: %w", name, err)
	}
	c.mu.Lock()
	c.sides = append(c.sides, nc)
	c.mu.Unlock()
	return jetstream.New(nc)
}

func (c *Conn) close(ctx context.Context) error {
	var errs []error
	c.mu.Lock()
	for _, nc := range c.sides {
		nc.Close()
	}
	c.mu.Unlock()
	if err := c.nc.Drain(); err != nil {
		if !errors.Is(err, nats.ErrConnectionClosed) {
			c.logger.Warn("NATS drain failed, closing", "err", err)
		}
		c.nc.Close()
	}
	select {
	case <-c.closed:
	case <-ctx.Done():
		c.nc.Close()
		errs = append(errs, fmt.Errorf("clusterstate: drain: %w", context.Cause(ctx)))
	}
	c.stopServer()
	return errors.Join(errs...)
}

func (c *Conn) stopServer() {
	if c.srv == nil {
		return
	}
	c.srv.Shutdown()
	c.srv.WaitForShutdown()
	c.logger.Info("embedded NATS server stopped")
}

// redactedURL masks credentials in a NATS URL list for messages.
func redactedURL(urls string) string {
	c := config.Config{NATS: config.NATS{URL: urls}}
	return c.Redacted().NATS.URL
}
