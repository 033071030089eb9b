package clusterstate

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/servicetest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func embeddedCfg() config.NATS {
	return config.Default().NATS
}

func open(t *testing.T, cfg config.NATS, dataDir string) (*Conn, *syncBuffer) {
	t.Helper()
	logger, buf := testLogger(t)
	c, err := Open(t.Context(), cfg, dataDir, logger)
	if err != nil {
		t.Fatalf("Open: %v\nlog:\n%s", err, buf)
	}
	return c, buf
}

func closeConn(t *testing.T, c *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestEmbeddedPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	c, logs := open(t, embeddedCfg(), dir)
	if !c.Embedded() || c.ClientURL() != "" {
		t.Errorf("Embedded() = %v, ClientURL() = %q; want true, \"\" (no TCP port)", c.Embedded(), c.ClientURL())
	}
	if err := c.Healthy(); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	s, err := c.JS().CreateStream(ctx, jetstream.StreamConfig{
		Name: "SESSIONS", Subjects: []string{"sessions.>"}, Storage: jetstream.FileStorage,
	})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := c.JS().Publish(ctx, "sessions.s1", []byte("reserved 100"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, ack.Sequence)
	if err != nil || string(m.Data) != "reserved 100" {
		t.Fatalf("GetMsg = %q, %v", m.Data, err)
	}
	// Core NATS works over the same connection.
	sub, err := c.NC().SubscribeSync("bus.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.NC().Publish("bus.test", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if msg, err := sub.NextMsg(5 * time.Second); err != nil || string(msg.Data) != "hi" {
		t.Fatalf("NextMsg = %v, %v", msg, err)
	}
	closeConn(t, c)
	if err := c.Healthy(); err == nil {
		t.Error("Healthy after Close = nil")
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nats", "jetstream")); err != nil {
		t.Errorf("JetStream data not under the data dir: %v", err)
	}
	if !strings.Contains(logs.String(), "component=nats") {
		t.Errorf("embedded server logs not routed to slog:\n%s", logs)
	}

	// Restart on the same directory: the message is still there.
	c2, _ := open(t, embeddedCfg(), dir)
	defer closeConn(t, c2)
	s2, err := c2.JS().Stream(ctx, "SESSIONS")
	if err != nil {
		t.Fatal(err)
	}
	m, err = s2.GetMsg(ctx, ack.Sequence)
	if err != nil || string(m.Data) != "reserved 100" {
		t.Fatalf("after restart GetMsg = %q, %v", m.Data, err)
	}
}

// TestEmbeddedSyncPolicy checks that nats.embedded.sync reaches the
// server's JetStream configuration (docs/operations.md "Durability").
func TestEmbeddedSyncPolicy(t *testing.T) {
	tests := []struct {
		name         string
		sync         string
		interval     time.Duration
		wantAlways   bool
		wantInterval time.Duration // 0: not checked
	}{
		{"default always", config.SyncPolicyAlways, time.Second, true, 0},
		{"empty means always", "", 0, true, 0},
		{"interval", config.SyncPolicyInterval, 250 * time.Millisecond, false, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := embeddedCfg()
			cfg.Embedded.Sync = tt.sync
			cfg.Embedded.SyncInterval = config.Duration(tt.interval)
			c, _ := open(t, cfg, t.TempDir())
			defer closeConn(t, c)
			jsc := c.srv.JetStreamConfig()
			if jsc == nil {
				t.Fatal("no JetStream config")
			}
			if jsc.SyncAlways != tt.wantAlways || (tt.wantInterval != 0 && jsc.SyncInterval != tt.wantInterval) {
				t.Errorf("SyncAlways=%v SyncInterval=%s; want %v %s", jsc.SyncAlways, jsc.SyncInterval, tt.wantAlways, tt.wantInterval)
			}
		})
	}

	cfg := embeddedCfg()
	cfg.Embedded.Sync = "sometimes"
	logger, _ := testLogger(t)
	if c, err := Open(t.Context(), cfg, t.TempDir(), logger); err == nil {
		closeConn(t, c)
		t.Fatal("Open with an unknown sync policy succeeded")
	}
}

func TestEmbeddedListen(t *testing.T) {
	cfg := embeddedCfg()
	cfg.Embedded.Listen = "127.0.0.1:0"
	cfg.Embedded.StoreDir = filepath.Join(t.TempDir(), "js")
	c, _ := open(t, cfg, "unused")
	defer closeConn(t, c)
	url := c.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":4222") {
		t.Fatalf("ClientURL() = %q; want a random port on 127.0.0.1", url)
	}
	// Another process (here: a TCP client) reaches the same JetStream.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.AccountInfo(t.Context()); err != nil {
		t.Fatalf("JetStream over TCP: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Embedded.StoreDir, "jetstream")); err != nil {
		t.Errorf("store_dir not used: %v", err)
	}
}

func TestEmbeddedPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := embeddedCfg()
	cfg.Embedded.Listen = ln.Addr().String()
	start := time.Now()
	_, err = Open(t.Context(), cfg, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "embedded NATS server") {
		t.Fatalf("Open on a taken port = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v to fail; want fast failure", d)
	}
}

// startPlainServer starts a stand-alone NATS server on a random port, as an
// external server would be.
func startPlainServer(t *testing.T, jetStream bool) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: jetStream, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("test NATS server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func TestExternalLocal(t *testing.T) {
	s := startPlainServer(t, true)
	cfg := embeddedCfg()
	cfg.URL = s.ClientURL()
	c, _ := open(t, cfg, t.TempDir())
	if c.Embedded() {
		t.Error("Embedded() = true for an external server")
	}
	if err := c.Healthy(); err != nil {
		t.Errorf("Healthy: %v", err)
	}
	if _, err := c.JS().CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "leases"}); err != nil {
		t.Fatal(err)
	}
	closeConn(t, c)
}

func TestExternalWithoutJetStream(t *testing.T) {
	s := startPlainServer(t, false)
	cfg := embeddedCfg()
	cfg.URL = s.ClientURL()
	_, err := Open(t.Context(), cfg, t.TempDir(), nil)
	if !errors.Is(err, ErrJetStreamUnavailable) {
		t.Fatalf("Open = %v; want ErrJetStreamUnavailable", err)
	}
}

func TestExternalUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := embeddedCfg()
	cfg.URL = "nats://user:secret@" + addr
	cfg.ConnectTimeout = config.Duration(2 * time.Second)
	_, err := Open(t.Context(), cfg, t.TempDir(), nil)
	if err == nil {
		t.Fatal("Open to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

// TestExternalService runs against a real NATS JetStream server named by
// TOLLGATE_TEST_NATS (DESIGN §6). It skips when unset or unreachable, unless
// TOLLGATE_REQUIRE_SERVICES=1.
func TestExternalService(t *testing.T) {
	url := servicetest.NATS(t)
	require := servicetest.Required()
	cfg := embeddedCfg()
	cfg.URL = url
	cfg.ConnectTimeout = config.Duration(5 * time.Second)
	c, err := Open(t.Context(), cfg, t.TempDir(), nil)
	if err != nil {
		var opErr *net.OpError
		if !require && (errors.Is(err, nats.ErrNoServers) || errors.As(err, &opErr)) {
			t.Skipf("NATS at %s unreachable: %v", url, err)
		}
		t.Fatalf("Open(%s): %v", url, err)
	}
	defer closeConn(t, c)
	ctx := t.Context()
	name := "TOLLGATE_TEST_" + strings.ReplaceAll(t.Name(), "/", "_")
	_ = c.JS().DeleteStream(ctx, name)
	s, err := c.JS().CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"tollgate.test.>"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.JS().DeleteStream(context.Background(), name)
	ack, err := c.JS().Publish(ctx, "tollgate.test.x", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.GetMsg(ctx, ack.Sequence); err != nil || string(m.Data) != "x" {
		t.Fatalf("GetMsg = %v, %v", m, err)
	}
}

func TestSlogAdapter(t *testing.T) {
	logger, buf := testLogger(t)
	a := &slogAdapter{l: logger}
	a.Noticef("notice %d", 1)
	a.Warnf("warn %d", 2)
	a.Errorf("error %d", 3)
	a.Debugf("debug %d", 4)
	a.Tracef("trace %d", 5) // below Debug: dropped
	if a.fatal() != "" {
		t.Error("fatal() before Fatalf")
	}
	a.Fatalf("fatal %d", 6)
	out := buf.String()
	for _, w := range []string{"level=DEBUG msg=\"notice 1\"", "level=WARN msg=\"warn 2\"", "level=ERROR msg=\"error 3\"",
		"level=DEBUG msg=\"debug 4\"", "level=ERROR msg=\"fatal 6\" fatal=true"} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
	if strings.Contains(out, "trace 5") {
		t.Errorf("trace logged at debug level:\n%s", out)
	}
	if a.fatal() != "fatal 6" {
		t.Errorf("fatal() = %q", a.fatal())
	}
}

// TestSide: a side connection reaches the same JetStream, its messages are
// visible through the main one, and the main connection stays healthy and
// open when it is closed with Close.
func TestSide(t *testing.T) {
	c, _ := open(t, embeddedCfg(), t.TempDir())
	ctx := t.Context()
	side, err := c.Side("test")
	if err != nil {
		t.Fatal(err)
	}
	kv, err := side.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "side"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	main, err := c.JS().KeyValue(ctx, "side")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := main.Get(ctx, "k"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("through the main connection: %v %v", e, err)
	}
	if err := c.Healthy(); err != nil {
		t.Fatal(err)
	}
	closeConn(t, c)
	if _, err := kv.Put(ctx, "k", []byte("w")); err == nil {
		t.Fatal("the side connection still works after Close")
	}
}
