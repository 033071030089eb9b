package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/version"
)

// Subsystem is a part of tollgate with a start/stop lifecycle: the records
// store, the rating engine, the Nchf listener... The server starts
// subsystems in the order given, after the cluster state is open, and stops
// them in reverse order after the HTTP server has shut down (STYLE habit 17).
type Subsystem interface {
	// Name identifies the subsystem in logs and in /healthz ("store").
	Name() string
	// Start brings the subsystem up and returns once it can serve. Work that
	// continues after Start belongs in Run (see [Runner]) so the server owns
	// its goroutine. If Start fails it releases what it acquired itself:
	// Stop is only called after a successful Start.
	Start(ctx context.Context) error
	// Stop releases what Start acquired, flushing anything durable. ctx
	// carries the shutdown deadline (http.shutdown_timeout).
	Stop(ctx context.Context) error
}

// Runner is an optional [Subsystem] capability: a long-running loop. Run is
// called after Start in a goroutine owned by the server's errgroup; its ctx is
// cancelled when shutdown reaches this subsystem (reverse start order), and
// Stop is called once Run has returned. An error from Run (other than after
// cancellation) shuts the whole server down and is returned by [Server.Run].
type Runner interface {
	Run(ctx context.Context) error
}

// HealthChecker is an optional [Subsystem] capability consulted by /healthz
// once the server is ready. It must answer quickly; ctx has a short deadline.
type HealthChecker interface {
	Healthy(ctx context.Context) error
}

// Reloader is an optional [Subsystem] capability: Reload is called on SIGHUP
// and by [Server.Reload], after [Options.OnReload].
type Reloader interface {
	Reload(ctx context.Context) error
}

// Options carries what the caller plugs into the server.
type Options struct {
	// API serves everything under /api/v1/ (the admin REST API, DESIGN §6).
	// Requests there get 503 until the server is ready. Nil answers 404.
	API http.Handler

	// Subsystems are started in order after the cluster state is open and
	// stopped in reverse order. More can be added with [Server.Add].
	Subsystems []Subsystem

	// OnReload is called for each value received on ReloadSignals and by
	// [Server.Reload], e.g. to re-import tariff plans. Errors are logged; the
	// server keeps running.
	OnReload func(ctx context.Context) error
	// ReloadSignals triggers reloads; cmd/tollgate feeds it SIGHUP.
	ReloadSignals <-chan os.Signal

	// Logger, when set, is used as is; otherwise the server builds one from
	// cfg.Log writing to LogOutput (default os.Stderr).
	Logger    *slog.Logger
	LogOutput io.Writer

	// Registry, when set, receives the server's metrics; otherwise the
	// server creates a private one. The global default registry is never used.
	Registry *prometheus.Registry
}

// ErrNotReady is returned by [Server.Reload] before the server is ready or
// after it started shutting down.
var ErrNotReady = errors.New("server: not ready")

// Server runs `tollgate serve`: HTTP (admin API, /metrics, /healthz), the
// cluster state and the subsystems.
type Server struct {
	cfg      config.Config
	opts     Options
	logger   *slog.Logger
	registry *prometheus.Registry
	metrics  *httpMetrics

	ln   net.Listener
	http *http.Server
	lock *dirLock

	subsystems []Subsystem // guarded by started: only changed before Run
	cluster    atomic.Pointer[clusterstate.Conn]
	health     atomic.Pointer[healthState]
	ready      chan struct{}
	started    atomic.Bool
	reloadMu   sync.Mutex
	closeOnce  sync.Once
	stopErr    error // from shutdown; written by lifecycle before Run's g.Wait returns
}

type phase int

const (
	phaseStarting phase = iota
	phaseReady
	phaseStopping
)

type healthState struct {
	phase     phase
	subsystem string // being started, in phaseStarting
}

// New prepares a server: it resolves and validates cfg, sets up logging,
// creates and locks the data directory, and binds the HTTP listener (so an
// address in use fails here, and [Server.Addr] is known at once). Nothing is
// served until [Server.Run]. If Run is never called, call [Server.Close].
func New(cfg config.Config, opts Options) (*Server, error) {
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server: invalid configuration: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		w := opts.LogOutput
		if w == nil {
			w = os.Stderr
		}
		logger = NewLogger(w, cfg.Log)
	}
	s := &Server{
		cfg:        cfg,
		opts:       opts,
		logger:     logger,
		registry:   opts.Registry,
		subsystems: append([]Subsystem(nil), opts.Subsystems...),
		ready:      make(chan struct{}),
	}
	s.health.Store(&healthState{phase: phaseStarting, subsystem: "server"})
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	m, err := newHTTPMetrics(s.registry, version.Get())
	if err != nil {
		return nil, err
	}
	s.metrics = m

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	if s.lock, err = lockDir(cfg.DataDir); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		s.lock.release()
		return nil, fmt.Errorf("server: http.addr: %w", err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.HTTP.ReadTimeout.Std(),
		WriteTimeout:      cfg.HTTP.WriteTimeout.Std(),
		IdleTimeout:       cfg.HTTP.IdleTimeout.Std(),
		ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	return s, nil
}

// NewLogger builds the process logger described by cfg, writing to w.
func NewLogger(w io.Writer, cfg config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.Format == config.FormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Add appends subsystems to start after those already given. It must be
// called before Run.
func (s *Server) Add(subs ...Subsystem) {
	if s.started.Load() {
		panic("server: Add called after Run")
	}
	s.subsystems = append(s.subsystems, subs...)
}

// Addr returns the address the HTTP server listens on, e.g. "127.0.0.1:43121"
// when http.addr has port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready is closed once every subsystem has started and /healthz answers 200.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Registry returns the Prometheus registry served on /metrics, for other
// packages to register their metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.logger }

// Config returns the resolved configuration the server runs with.
func (s *Server) Config() config.Config { return s.cfg }

// Cluster returns the cluster-state connection (S0.5). It is nil until the
// cluster state is open, which happens before any subsystem starts, so a
// subsystem may call it from its Start.
func (s *Server) Cluster() *clusterstate.Conn { return s.cluster.Load() }

// Close releases the listener and the data directory lock of a server whose
// Run was never called. Run releases them itself.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		s.lock.release()
	})
	return err
}

// Run serves until ctx is cancelled (SIGTERM/SIGINT in cmd/tollgate) or a
// part fails. Start-up order: HTTP (answering 503 on /healthz), cluster
// state, subsystems in order; then Ready is closed. Shutdown order: HTTP
// graceful shutdown within http.shutdown_timeout, subsystems in reverse
// order (each given http.shutdown_timeout), cluster state last.
//
// Run returns nil after a requested shutdown (even one during start-up), the
// first error otherwise, joined with any error from stopping. Run may be
// called once.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("server: Run called twice")
	}
	defer s.Close()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		s.logger.Info("http listening", "addr", s.Addr())
		if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("server: http: %w", err)
		}
		return nil
	})
	g.Go(func() error { return s.lifecycle(gctx, g) })
	err := g.Wait()
	return errors.Join(err, s.stopErr)
}

// running is a started subsystem.
type running struct {
	sub    Subsystem
	cancel context.CancelFunc // of Run's context; nil if not a Runner
	done   chan struct{}      // closed when Run returned
}

// lifecycle starts the parts, waits for ctx, and stops them. Errors from
// stopping go to s.stopErr so that they are reported even when another
// goroutine's error is the one errgroup returns.
func (s *Server) lifecycle(ctx context.Context, g *errgroup.Group) error {
	var (
		cs      *clusterstate.Conn
		started []*running
	)
	defer func() { s.stopErr = s.shutdown(cs, started) }()
	// A failure caused by the requested shutdown is not an error.
	startErr := func(err error) error {
		if ctx.Err() != nil {
			s.logger.Info("shutdown requested during start-up", "err", err)
			return nil
		}
		return err
	}

	info := version.Get()
	s.logger.Info("tollgate starting", "version", info.Version, "commit", info.Commit, "data_dir", s.cfg.DataDir)

	s.setHealth(phaseStarting, "clusterstate")
	t0 := time.Now()
	cs, err := clusterstate.Open(ctx, s.cfg.NATS, s.cfg.DataDir, s.logger)
	if err != nil {
		return startErr(fmt.Errorf("server: %w", err))
	}
	s.cluster.Store(cs)
	s.logger.Debug("subsystem started", "subsystem", "clusterstate", "took", time.Since(t0))

	for _, sub := range s.subsystems {
		name := sub.Name()
		s.setHealth(phaseStarting, name)
		t0 := time.Now()
		if err := sub.Start(ctx); err != nil {
			return startErr(fmt.Errorf("server: start %s: %w", name, err))
		}
		r := &running{sub: sub}
		if runner, ok := sub.(Runner); ok {
			// Not derived from ctx: each Run is cancelled in its turn during
			// shutdown, in reverse start order, just before its Stop.
			rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			r.cancel, r.done = cancel, make(chan struct{})
			g.Go(func() error {
				defer close(r.done)
				if err := runner.Run(rctx); err != nil && rctx.Err() == nil {
					return fmt.Errorf("server: %s: %w", name, err)
				}
				return nil
			})
		}
		started = append(started, r)
		s.logger.Debug("subsystem started", "subsystem", name, "took", time.Since(t0))
	}

	s.setHealth(phaseReady, "")
	close(s.ready)
	s.logger.Info("tollgate ready", "http", s.Addr(), "nats_embedded", cs.Embedded())

	for {
		select {
		case <-ctx.Done():
			s.logger.Info("shutting down", "cause", context.Cause(ctx))
			return nil
		case sig := <-s.opts.ReloadSignals:
			s.logger.Info("reload requested", "signal", sig)
			_ = s.Reload(ctx) // logged by Reload
		}
	}
}

// shutdown stops everything that was started, in order: HTTP, subsystems in
// reverse, cluster state.
func (s *Server) shutdown(cs *clusterstate.Conn, started []*running) error {
	s.setHealth(phaseStopping, "")
	timeout := s.cfg.HTTP.ShutdownTimeout.Std()
	var errs []error

	hctx, cancel := context.WithTimeout(context.Background(), timeout)
	if err := s.http.Shutdown(hctx); err != nil {
		s.logger.Warn("http shutdown incomplete, closing remaining connections", "err", err)
		_ = s.http.Close()
	}
	cancel()

	for i := len(started) - 1; i >= 0; i-- {
		r := started[i]
		name := r.sub.Name()
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		if r.cancel != nil {
			r.cancel()
			select {
			case <-r.done:
			case <-sctx.Done():
				s.logger.Warn("subsystem did not return from Run in time", "subsystem", name)
			}
		}
		t0 := time.Now()
		if err := r.sub.Stop(sctx); err != nil {
			errs = append(errs, fmt.Errorf("server: stop %s: %w", name, err))
			s.logger.Error("subsystem stop failed", "subsystem", name, "err", err)
		} else {
			s.logger.Debug("subsystem stopped", "subsystem", name, "took", time.Since(t0))
		}
		cancel()
	}

	if cs != nil {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		if err := cs.Close(cctx); err != nil {
			errs = append(errs, fmt.Errorf("server: close cluster state: %w", err))
		}
		cancel()
	}
	s.logger.Info("tollgate stopped")
	return errors.Join(errs...)
}

func (s *Server) setHealth(p phase, subsystem string) {
	s.health.Store(&healthState{phase: p, subsystem: subsystem})
}

// Reload calls [Options.OnReload], then Reload of every subsystem that is a
// [Reloader], in start order. Reloads are serialized. Every error is logged
// and returned joined; a failed reload leaves the server running.
func (s *Server) Reload(ctx context.Context) error {
	if s.health.Load().phase != phaseReady {
		return ErrNotReady
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	t0 := time.Now()
	var errs []error
	if s.opts.OnReload != nil {
		if err := s.opts.OnReload(ctx); err != nil {
			errs = append(errs, fmt.Errorf("server: reload: %w", err))
		}
	}
	for _, sub := range s.subsystems {
		if r, ok := sub.(Reloader); ok {
			if err := r.Reload(ctx); err != nil {
				errs = append(errs, fmt.Errorf("server: reload %s: %w", sub.Name(), err))
			}
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		s.logger.Error("reload failed", "err", err)
	} else {
		s.logger.Info("reload done", "took", time.Since(t0))
	}
	return err
}
