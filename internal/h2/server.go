package h2

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Request is one complete request, handed to the handler once its body has
// arrived, or as soon as the body exceeds Server.MaxBodySize (TooLarge).
type Request struct {
	Method, Scheme, Authority, Path string
	// Fields are the regular header fields (lower-case names), in order.
	Fields []hpack.HeaderField
	// Body is the whole request body; it is valid until the handler returns.
	Body []byte
	// TooLarge: the body exceeded Server.MaxBodySize; Body holds its first
	// MaxBodySize bytes and the rest is discarded.
	TooLarge bool
	// TLS: the connection is HTTP/2 over TLS.
	TLS        bool
	RemoteAddr string
}

// Header is the value of the first regular field named name (lower case),
// or "".
func (r *Request) Header(name string) string {
	for _, f := range r.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Field is a header field of a response. Sensitive fields (a value that
// changes with every response, such as a Location) are sent as never-indexed
// literals so that they do not churn the HPACK dynamic table.
type Field struct {
	Name, Value string
	Sensitive   bool
}

// Response is what a handler answers. The server sends content-length and
// date itself; Header names must be lower case.
type Response struct {
	Status int
	Header []Field
	// Body is appended to by the handler; its capacity is reused.
	Body []byte
}

// Handler serves one request. It must not keep req or res after it returns.
type Handler interface {
	ServeH2(ctx context.Context, req *Request, res *Response)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request, res *Response)

// ServeH2 calls f.
func (f HandlerFunc) ServeH2(ctx context.Context, req *Request, res *Response) { f(ctx, req, res) }

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("h2: server closed")

// Server serves HTTP/2 on the connections of a listener: prior knowledge
// on a cleartext listener (a connection that starts with the HTTP/2
// preface), ALPN "h2" with TLSConfig. Every other connection (HTTP/1.1) goes
// to Fallback, or is closed when Fallback is nil.
type Server struct {
	Handler Handler
	// Fallback serves the connections that do not speak HTTP/2 (HTTP/1.1),
	// over TLS when TLSConfig is set. Serve runs it on an internal listener;
	// Shutdown shuts it down.
	Fallback *http.Server
	// TLSConfig: serve TLS; its NextProtos are set to "h2", "http/1.1".
	TLSConfig *tls.Config
	// MaxConcurrentStreams per connection (SETTINGS_MAX_CONCURRENT_STREAMS);
	// default 1000. A stream over it is refused (REFUSED_STREAM: the client
	// may retry it).
	MaxConcurrentStreams uint32
	// MaxBodySize is the largest request body handed whole to the handler;
	// default 1 MiB.
	MaxBodySize int
	// MaxHeaderBytes limits a request's header list (decoded size, RFC 9113
	// §6.5.2); default 64 KiB. A larger one is answered 431.
	MaxHeaderBytes uint32
	// IdleTimeout closes (GOAWAY) a connection without streams for this
	// long; 0 = never.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake and the client preface;
	// default 10 s.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds one write to a connection (a peer that stops
	// reading is closed); default 30 s.
	WriteTimeout time.Duration
	Logger       *slog.Logger
	// Metrics, when set, count connections, requests, writes and the
	// GOAWAY and RST_STREAM frames sent (NewMetrics).
	Metrics *Metrics

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	fallback  *connListener
	fbOnce    sync.Once
	fbErr     chan error
	shutdown  bool
	handlers  atomic.Int64  // handlers running
	workers   workers       // the goroutines that run them
	connsDone chan struct{} // closed when conns is empty during Shutdown
}

const (
	defaultMaxStreams   = 1000
	defaultMaxBody      = 1 << 20
	defaultMaxHeaders   = 64 << 10
	streamWindow        = 1 << 20 // our SETTINGS_INITIAL_WINDOW_SIZE
	connWindow          = 8 << 20 // our connection receive window
	maxWindow           = 1<<31 - 1
	defaultHandshake    = 10 * time.Second
	defaultWriteTimeout = 30 * time.Second
)

func (s *Server) maxStreams() uint32 {
	if s.MaxConcurrentStreams == 0 {
		return defaultMaxStreams
	}
	return s.MaxConcurrentStreams
}

func (s *Server) maxBody() int {
	if s.MaxBodySize <= 0 {
		return defaultMaxBody
	}
	return s.MaxBodySize
}

func (s *Server) maxHeaders() uint32 {
	if s.MaxHeaderBytes == 0 {
		return defaultMaxHeaders
	}
	return s.MaxHeaderBytes
}

func (s *Server) handshakeTimeout() time.Duration {
	if s.HandshakeTimeout <= 0 {
		return defaultHandshake
	}
	return s.HandshakeTimeout
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout <= 0 {
		return defaultWriteTimeout
	}
	return s.WriteTimeout
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Serve accepts connections on ln until Shutdown or Close (ErrServerClosed)
// or an accept error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	if s.Fallback != nil && s.fallback == nil {
		s.fallback = newConnListener(ln.Addr())
	}
	s.mu.Unlock()
	if s.fallback != nil {
		s.fbOnce.Do(func() {
			s.fbErr = make(chan error, 1)
			go func() { s.fbErr <- s.Fallback.Serve(s.fallback) }()
		})
	}
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.shutdown
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go s.handoff(nc)
	}
}

// handoff finds out what a new connection speaks and serves it.
func (s *Server) handoff(nc net.Conn) {
	deadline := time.Now().Add(s.handshakeTimeout())
	if s.TLSConfig != nil {
		cfg := s.TLSConfig.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		tc := tls.Server(nc, cfg)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.logger().Debug("h2: TLS handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
			nc.Close()
			return
		}
		if tc.ConnectionState().NegotiatedProtocol != "h2" {
			s.toFallback(tc)
			return
		}
		br := bufio.NewReaderSize(tc, 16<<10)
		_ = tc.SetReadDeadline(deadline)
		p, err := br.Peek(len(http2.ClientPreface))
		if err != nil || string(p) != http2.ClientPreface {
			tc.Close()
			return
		}
		_, _ = br.Discard(len(p))
		_ = tc.SetReadDeadline(time.Time{})
		s.serveConn(tc, br, true)
		return
	}
	br := bufio.NewReaderSize(nc, 16<<10)
	_ = nc.SetReadDeadline(deadline)
	// Read until the bytes either stop matching the preface (HTTP/1.1, to
	// the fallback) or are the whole preface (HTTP/2 with prior knowledge).
	want := 1
	for {
		p, err := br.Peek(want)
		if err != nil {
			if len(p) > 0 && !strings.HasPrefix(http2.ClientPreface, string(p)) {
				break // a short HTTP/1.1 request line followed by EOF or timeout
			}
			nc.Close()
			return
		}
		p, _ = br.Peek(br.Buffered())
		if !strings.HasPrefix(http2.ClientPreface, string(p[:min(len(p), len(http2.ClientPreface))])) {
			break
		}
		if len(p) >= len(http2.ClientPreface) {
			_, _ = br.Discard(len(http2.ClientPreface))
			_ = nc.SetReadDeadline(time.Time{})
			s.serveConn(nc, br, false)
			return
		}
		want = len(p) + 1
	}
	_ = nc.SetReadDeadline(time.Time{})
	s.toFallback(&bufConn{Conn: nc, r: br})
}

func (s *Server) toFallback(c net.Conn) {
	if s.fallback == nil || !s.fallback.deliver(c) {
		c.Close()
	}
}

// serveConn runs one HTTP/2 connection whose preface has been read.
func (s *Server) serveConn(nc net.Conn, br *bufio.Reader, isTLS bool) {
	c := newConn(s, nc, br, isTLS)
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.Metrics.connOpened()
	c.serve()
	s.Metrics.connClosed()
	s.mu.Lock()
	delete(s.conns, c)
	if s.connsDone != nil && len(s.conns) == 0 {
		close(s.connsDone)
		s.connsDone = nil
	}
	s.mu.Unlock()
}

// Shutdown stops accepting connections, sends every connection a GOAWAY,
// lets the requests in flight finish, and returns when every connection is
// closed, or closes them when ctx ends first (and returns ctx.Err()). The
// fallback server is shut down with the same ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	var done chan struct{}
	if len(s.conns) > 0 {
		done = make(chan struct{})
		s.connsDone = done
	}
	s.mu.Unlock()
	var fbErr error
	var fbDone chan struct{}
	if s.Fallback != nil && s.fallback != nil {
		fbDone = make(chan struct{})
		go func() {
			defer close(fbDone)
			fbErr = s.Fallback.Shutdown(ctx)
			s.fallback.Close()
		}()
	}
	for _, c := range conns {
		c.goAway(http2.ErrCodeNo)
	}
	var err error
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
			s.closeConns()
		}
	}
	// Handlers of connections closed by force may still run.
	for s.handlers.Load() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	s.workers.close()
	if fbDone != nil {
		<-fbDone
		if err == nil && fbErr != nil && !errors.Is(fbErr, http.ErrServerClosed) {
			err = fbErr
		}
	}
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.workers.close()
	s.mu.Lock()
	s.shutdown = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.closeConns()
	if s.Fallback != nil {
		s.Fallback.Close()
	}
	return nil
}

func (s *Server) closeConns() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(errors.New("server closed"))
	}
}

// bufConn is a connection whose first bytes were read into r.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connListener hands connections to the fallback server.
type connListener struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) deliver(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
