package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tollgate-billing/tollgate/internal/config"
)

// events records what fake subsystems do, in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

type fakeSub struct {
	name     string
	ev       *events
	startErr error
	block    chan struct{} // Start waits for it (or ctx) when non-nil
	stopErr  error
	health   func() error
	onStart  func()
}

func (f *fakeSub) Name() string { return f.name }

func (f *fakeSub) Start(ctx context.Context) error {
	f.ev.add("start " + f.name)
	if f.onStart != nil {
		f.onStart()
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.startErr
}

func (f *fakeSub) Stop(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		f.ev.add("stop " + f.name + " without deadline")
	}
	f.ev.add("stop " + f.name)
	return f.stopErr
}

func (f *fakeSub) Healthy(context.Context) error {
	if f.health != nil {
		return f.health()
	}
	return nil
}

func (f *fakeSub) Reload(context.Context) error {
	f.ev.add("reload " + f.name)
	return nil
}

// runnerSub is a fakeSub with a Run loop.
type runnerSub struct {
	fakeSub
	runErr chan error // Run returns what it receives here, or nil on ctx done
}

func (r *runnerSub) Run(ctx context.Context) error {
	r.ev.add("run " + r.name)
	select {
	case <-ctx.Done():
		r.ev.add("run " + r.name + " cancelled")
		return ctx.Err()
	case err := <-r.runErr:
		return err
	}
}

var (
	_ Subsystem     = (*fakeSub)(nil)
	_ HealthChecker = (*fakeSub)(nil)
	_ Reloader      = (*fakeSub)(nil)
	_ Runner        = (*runnerSub)(nil)
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.SBI.Addr = "127.0.0.1:0"
	cfg.HTTP.ShutdownTimeout = config.Duration(5 * time.Second)
	cfg.Log.Level = "debug"
	return cfg
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// started is a running test server.
type started struct {
	srv    *Server
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, once done is closed
	logs   *logBuf
}

// wait returns Run's result, failing the test if it takes longer than d.
func (s *started) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v\nlogs:\n%s", d, s.logs)
		return nil
	}
}

func (s *started) url(path string) string { return "http://" + s.srv.Addr() + path }

// stop cancels Run and returns its result, failing if it takes too long.
func (s *started) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	return s.wait(t, 10*time.Second)
}

// start runs a server; setup functions run between New and Run.
func start(t *testing.T, cfg config.Config, opts Options, setup ...func(*Server)) *started {
	t.Helper()
	logs := &logBuf{}
	opts.LogOutput = logs
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{srv: srv, cancel: cancel, done: make(chan struct{}), logs: logs}
	go func() {
		s.err = srv.Run(ctx)
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
	})
	return s
}

func waitReady(t *testing.T, s *started) {
	t.Helper()
	select {
	case <-s.srv.Ready():
	case <-s.done:
		t.Fatalf("Run returned before ready: %v\nlogs:\n%s", s.err, s.logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("not ready\nlogs:\n%s", s.logs)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeLifecycle(t *testing.T) {
	ev := &events{}
	a := &fakeSub{name: "a", ev: ev}
	b := &runnerSub{fakeSub: fakeSub{name: "b", ev: ev}, runErr: make(chan error)}
	var clusterAtStart bool
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "api "+r.URL.Path)
	})
	cfg := testConfig(t)
	srv := start(t, cfg, Options{API: api, Subsystems: []Subsystem{a}}, func(s *Server) {
		s.Add(b)
		s.Add(&fakeSub{name: "probe", ev: ev, onStart: func() { clusterAtStart = s.Cluster() != nil }})
	})
	waitReady(t, srv)

	if !clusterAtStart {
		t.Error("Cluster() was nil when a subsystem started")
	}
	code, body := get(t, srv.url("/healthz"))
	if code != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, body := get(t, srv.url("/api/v1/accounts")); code != http.StatusTeapot || body != "api /api/v1/accounts" {
		t.Errorf("/api/v1/accounts = %d %q", code, body)
	}
	if code, _ := get(t, srv.url("/nope")); code != 404 {
		t.Errorf("/nope = %d", code)
	}
	code, body = get(t, srv.url("/metrics"))
	for _, w := range []string{
		"go_goroutines ",
		"process_start_time_seconds",
		`tollgate_build_info{`,
		`tollgate_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`tollgate_http_requests_total{code="418",method="GET",route="/api/v1/"} 1`,
		`tollgate_http_requests_total{code="404",method="GET",route="none"} 1`,
		`tollgate_http_request_duration_seconds_bucket{code="200",method="GET",route="GET /healthz",le=`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics (%d) lacks %q", code, w)
		}
	}
	if !strings.Contains(srv.logs.String(), `msg="http request" method=GET path=/healthz route="GET /healthz" code=200`) {
		t.Errorf("request not logged at debug:\n%s", srv.logs)
	}

	t0 := time.Now()
	if err := srv.stop(t); err != nil {
		t.Fatalf("Run = %v; want nil", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	// "run b" happens concurrently with "start probe": compare without it.
	want := []string{"start a", "start b", "start probe", "stop probe", "run b cancelled", "stop b", "stop a"}
	got := ev.get()
	got = slices.DeleteFunc(got, func(s string) bool { return s == "run b" })
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	if _, err := http.Get(srv.url("/healthz")); err == nil {
		t.Error("HTTP still answers after Run returned")
	}
	// The data dir lock is released: a new server can use the directory.
	s2, err := New(cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatalf("New after Run: %v", err)
	}
	s2.Close()
}

func TestHealthzStartingAndUnhealthy(t *testing.T) {
	ev := &events{}
	release := make(chan struct{})
	var healthErr error
	var mu sync.Mutex
	slow := &fakeSub{name: "slow", ev: ev, block: release, health: func() error {
		mu.Lock()
		defer mu.Unlock()
		return healthErr
	}}
	s := start(t, testConfig(t), Options{Subsystems: []Subsystem{slow}})

	// Before ready: 503 naming what is starting; the API is gated.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, s.url("/healthz"))
		if code != 503 {
			t.Fatalf("/healthz before ready = %d %s", code, body)
		}
		if strings.Contains(body, `"subsystem":"slow"`) {
			if !strings.Contains(body, `"status":"starting"`) {
				t.Errorf("body = %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw slow starting: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := get(t, s.url("/api/v1/x")); code != 503 || !strings.Contains(body, "starting") {
		t.Errorf("/api/v1/x before ready = %d %s", code, body)
	}

	close(release)
	waitReady(t, s)
	if code, _ := get(t, s.url("/healthz")); code != 200 {
		t.Errorf("/healthz when ready = %d", code)
	}
	if code, _ := get(t, s.url("/api/v1/x")); code != 404 {
		t.Errorf("/api/v1/x with nil API = %d; want 404", code)
	}

	mu.Lock()
	healthErr = errors.New("database gone")
	mu.Unlock()
	code, body := get(t, s.url("/healthz"))
	var h healthResponse
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if code != 503 || h != (healthResponse{Status: "unavailable", Subsystem: "slow", Error: "database gone"}) {
		t.Errorf("/healthz unhealthy = %d %+v", code, h)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailure(t *testing.T) {
	ev := &events{}
	a := &fakeSub{name: "a", ev: ev}
	b := &fakeSub{name: "b", ev: ev, startErr: errors.New("boom")}
	c := &fakeSub{name: "c", ev: ev}
	s := start(t, testConfig(t), Options{Subsystems: []Subsystem{a, b, c}})
	if err := s.wait(t, 15*time.Second); err == nil || !strings.Contains(err.Error(), "start b: boom") {
		t.Fatalf("Run = %v", err)
	}
	want := []string{"start a", "start b", "stop a"}
	if got := ev.get(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %q; want %q", got, want)
	}
}

func TestRunnerFailure(t *testing.T) {
	ev := &events{}
	a := &fakeSub{name: "a", ev: ev, stopErr: errors.New("flush failed")}
	r := &runnerSub{fakeSub: fakeSub{name: "r", ev: ev}, runErr: make(chan error, 1)}
	s := start(t, testConfig(t), Options{Subsystems: []Subsystem{a, r}})
	waitReady(t, s)
	r.runErr <- errors.New("lost lease")
	err := s.wait(t, 15*time.Second)
	if err == nil || !strings.Contains(err.Error(), "server: r: lost lease") || !strings.Contains(err.Error(), "stop a: flush failed") {
		t.Fatalf("Run = %v", err)
	}
	want := []string{"start a", "start r", "run r", "stop r", "stop a"}
	if got := ev.get(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %q; want %q", got, want)
	}
}

func TestCancelDuringStartup(t *testing.T) {
	ev := &events{}
	blocked := &fakeSub{name: "blocked", ev: ev, block: make(chan struct{})}
	s := start(t, testConfig(t), Options{Subsystems: []Subsystem{blocked}})
	for len(ev.get()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("Run after cancel during start-up = %v; want nil", err)
	}
}

func TestReload(t *testing.T) {
	ev := &events{}
	sig := make(chan os.Signal, 1)
	reloaded := make(chan struct{}, 1)
	a := &fakeSub{name: "a", ev: ev}
	s := start(t, testConfig(t), Options{
		Subsystems:    []Subsystem{a},
		ReloadSignals: sig,
		OnReload: func(context.Context) error {
			ev.add("onreload")
			reloaded <- struct{}{}
			return nil
		},
	})
	if err := s.srv.Reload(t.Context()); !errors.Is(err, ErrNotReady) && err != nil {
		t.Errorf("Reload before ready = %v", err)
	}
	waitReady(t, s)
	sig <- syscall.SIGHUP
	select {
	case <-reloaded:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP did not reach OnReload")
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ev.get(), ",")
	if !strings.Contains(got, "onreload,reload a") {
		t.Errorf("events %q: want OnReload then subsystem Reload", got)
	}
}

func TestDataDirLocked(t *testing.T) {
	cfg := testConfig(t)
	s1, err := New(cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	_, err = New(cfg, Options{LogOutput: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "in use by another tollgate process (pid ") {
		t.Fatalf("second New on the same data dir = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	cfg := testConfig(t)
	cfg.Log.Level = "loud"
	cfg.SBI.Addr = "nope"
	_, err := New(cfg, Options{LogOutput: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "log.level") || !strings.Contains(err.Error(), "sbi.addr") {
		t.Errorf("New(invalid) = %v", err)
	}

	s1, err := New(testConfig(t), Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	cfg = testConfig(t)
	cfg.HTTP.Addr = s1.Addr()
	if _, err := New(cfg, Options{LogOutput: io.Discard}); err == nil || !strings.Contains(err.Error(), "http.addr") {
		t.Errorf("New on a busy port = %v", err)
	}
	// The failed New released its data dir lock.
	s3, err := New(testConfig(t), Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
}

func TestCallerRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector()) // already there: not an error
	s, err := New(testConfig(t), Options{LogOutput: io.Discard, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Registry() != reg {
		t.Error("Registry() is not the caller's registry")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	if !slices.Contains(names, "tollgate_build_info") || !slices.Contains(names, "go_goroutines") {
		t.Errorf("metrics %v", names)
	}
}

func TestJSONLogs(t *testing.T) {
	var buf logBuf
	l := NewLogger(&buf, config.Log{Level: "warn", Format: "json"})
	l.Info("hidden")
	l.Warn("shown", "k", 1)
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown","k":1`) {
		t.Errorf("json logger output %q", out)
	}
}

// TestPprof: Go profiles are served only when http.pprof is on.
func TestPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		cfg := testConfig(t)
		cfg.HTTP.Pprof = on
		s := start(t, cfg, Options{})
		waitReady(t, s)
		code, body := get(t, s.url("/debug/pprof/"))
		if on && (code != http.StatusOK || !strings.Contains(body, "goroutine")) || !on && code != http.StatusNotFound {
			t.Errorf("pprof %v: %d %.80s", on, code, body)
		}
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}
