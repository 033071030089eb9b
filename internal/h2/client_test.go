package h2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// --- servers for the client tests ---

// clH2C serves h over HTTP/2 cleartext only (prior knowledge) with
// net/http's server; tune adjusts the server before it starts.
func clH2C(t testing.TB, h http.Handler, tune func(*http.Server)) (string, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: &p}
	if tune != nil {
		tune(srv)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String(), srv
}

// clTLS serves h over HTTP/2 with TLS (ALPN h2) and returns its address and
// a client TLS config that trusts it.
func clTLS(t testing.TB, h http.Handler) (string, *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

func clDial(t testing.TB, addr string, cfg ClientConfig) *ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clEcho answers 201 with a Location naming the path, the request's
// content-type, and the request body as the body.
var clEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Location", "/created"+r.URL.Path)
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.Header().Set("X-Accept", r.Header.Get("Accept"))
	w.Header().Set("X-Method", r.Method)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
})

// clActive counts the streams a connection holds.
func clActive(c *ClientConn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

// --- tests against net/http's server ---

func TestClientConcurrent(t *testing.T) {
	h2cAddr, _ := clH2C(t, clEcho, nil)
	tlsAddr, tlsCfg := clTLS(t, clEcho)
	for _, tc := range []struct {
		name string
		addr string
		cfg  ClientConfig
	}{
		{"h2c", h2cAddr, ClientConfig{}},
		{"tls", tlsAddr, ClientConfig{TLS: tlsCfg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clDial(t, tc.addr, tc.cfg)
			const callers, each = 64, 30
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for g := range callers {
				wg.Go(func() {
					var resp ClientResponse
					for i := range each {
						path := fmt.Sprintf("/items/%d-%d", g, i)
						body := bytes.Repeat([]byte(path), 1+i%7)
						req := ClientRequest{Method: "POST", Path: path, ContentType: "application/json", Accept: "application/json", Body: body}
						if err := c.Do(context.Background(), &req, &resp); err != nil {
							errs <- err
							return
						}
						if resp.Status != 201 || resp.Location != "/created"+path || resp.ContentType != "application/json" ||
							!bytes.Equal(resp.Body, body) {
							errs <- fmt.Errorf("%s: status %d, location %q, content-type %q, body %d bytes, want %d",
								path, resp.Status, resp.Location, resp.ContentType, len(resp.Body), len(body))
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := clActive(c); n != 0 {
				t.Errorf("%d streams left active", n)
			}
		})
	}
}

func TestClientGetAndNoBody(t *testing.T) {
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/method":
			w.Header().Set("Content-Length", "0")
		default:
			http.NotFound(w, r)
		}
	}), nil)
	c := clDial(t, addr, ClientConfig{})
	resp := ClientResponse{Body: []byte("stale")}
	for _, tc := range []struct {
		req    ClientRequest
		status int
	}{
		{ClientRequest{Method: "POST", Path: "/204", Body: []byte("{}")}, 204},
		{ClientRequest{Path: "/204"}, 204},
		{ClientRequest{Path: "/method"}, 200},
		{ClientRequest{Method: "DELETE", Path: "/nothing"}, 404},
	} {
		if err := c.Do(context.Background(), &tc.req, &resp); err != nil {
			t.Fatalf("%s %s: %v", tc.req.Method, tc.req.Path, err)
		}
		if resp.Status != tc.status || (tc.status != 404 && len(resp.Body) != 0) {
			t.Errorf("%s %s: status %d, body %q", tc.req.Method, tc.req.Path, resp.Status, resp.Body)
		}
	}
}

func TestClientLargeRequestBody(t *testing.T) {
	// The server's windows (16 KiB per stream, 64 KiB per connection) are
	// far smaller than the bodies: the client must wait for WINDOW_UPDATE;
	// a client that overran them would get a FLOW_CONTROL_ERROR.
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	}), func(s *http.Server) {
		s.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 16 << 10, MaxReceiveBufferPerConnection: 64 << 10}
	})
	c := clDial(t, addr, ClientConfig{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			body := bytes.Repeat([]byte{byte('a' + i)}, (3<<20)+i*1000)
			var resp ClientResponse
			if err := c.Do(context.Background(), &ClientRequest{Method: "PUT", Path: "/upload", Body: body}, &resp); err != nil {
				t.Error(err)
				return
			}
			if want := fmt.Sprintf("%d %x", len(body), sha256.Sum256(body)); resp.Status != 200 || string(resp.Body) != want {
				t.Errorf("upload %d: status %d, %q, want %q", i, resp.Status, resp.Body, want)
			}
		})
	}
	wg.Wait()
}

func TestClientLargeResponseBody(t *testing.T) {
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("cl") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i % 251)
		}
		_, _ = w.Write(b)
	}), nil)
	c := clDial(t, addr, ClientConfig{})
	var wg sync.WaitGroup
	// 1000000 bytes on a stream window of 256 KiB and with several at once:
	// the client must send WINDOW_UPDATEs, or the responses stall.
	for i := range 6 {
		wg.Go(func() {
			n := 1_000_000 - i
			var resp ClientResponse
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Do(ctx, &ClientRequest{Path: fmt.Sprintf("/big?n=%d", n)}, &resp); err != nil {
				t.Error(err)
				return
			}
			if resp.Status != 200 || len(resp.Body) != n {
				t.Errorf("status %d, %d bytes, want %d", resp.Status, len(resp.Body), n)
				return
			}
			for j, b := range resp.Body {
				if b != byte(j%251) {
					t.Errorf("byte %d is %d", j, b)
					return
				}
			}
		})
	}
	wg.Wait()

	// Over the limit, with and without a content-length: the call fails,
	// the connection stays usable.
	small := clDial(t, addr, ClientConfig{MaxResponseBody: 100_000})
	for _, path := range []string{"/big?n=300000", "/big?n=300000&cl=1", "/big?n=100001"} {
		var resp ClientResponse
		err := small.Do(context.Background(), &ClientRequest{Path: path}, &resp)
		if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "100000") {
			t.Errorf("%s: %v, want ErrResponseTooLarge", path, err)
		}
		if err := small.Do(context.Background(), &ClientRequest{Path: "/big?n=100000"}, &resp); err != nil || len(resp.Body) != 100_000 {
			t.Errorf("after %s: %v, %d bytes", path, err, len(resp.Body))
		}
	}
}

func TestClientMaxConcurrentStreams(t *testing.T) {
	var inFlight, peak atomic.Int64
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		_, _ = io.Copy(w, r.Body)
	}), func(s *http.Server) { s.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2} })
	c := clDial(t, addr, ClientConfig{})
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			var resp ClientResponse
			for i := range 4 {
				body := []byte(fmt.Sprintf("%d/%d", g, i))
				if err := c.Do(context.Background(), &ClientRequest{Method: "POST", Path: "/", Body: body}, &resp); err != nil {
					t.Error(err)
					return
				}
				if resp.Status != 200 || !bytes.Equal(resp.Body, body) {
					t.Errorf("status %d body %q", resp.Status, resp.Body)
				}
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("server saw %d requests at once; its limit is 2", p)
	}
}

func TestClientCancel(t *testing.T) {
	canceled := make(chan struct{}, 1)
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast" {
			return
		}
		// A slow handler: it ends when the client resets the stream.
		select {
		case <-r.Context().Done():
			canceled <- struct{}{}
		case <-time.After(10 * time.Second):
		}
	}), nil)
	c := clDial(t, addr, ClientConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var resp ClientResponse
	start := time.Now()
	err := c.Do(ctx, &ClientRequest{Method: "POST", Path: "/slow", Body: []byte("x")}, &resp)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("Do: %v after %s", err, time.Since(start))
	}
	select {
	case <-canceled: // the server got the RST_STREAM
	case <-time.After(5 * time.Second):
		t.Fatal("the server's handler was not canceled: no RST_STREAM")
	}
	if n := clActive(c); n != 0 {
		t.Errorf("%d streams active after the cancel", n)
	}
	if err := c.Do(context.Background(), &ClientRequest{Path: "/fast"}, &resp); err != nil || resp.Status != 200 {
		t.Errorf("after the cancel: %v, status %d", err, resp.Status)
	}
	// A ctx already done sends nothing.
	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := c.Do(done, &ClientRequest{Path: "/fast"}, &resp); !errors.Is(err, context.Canceled) {
		t.Errorf("done ctx: %v", err)
	}
}

func TestClientContinuation(t *testing.T) {
	long := "/" + strings.Repeat("p", 40_000) // > 2 frames of 16 KiB
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", r.URL.Path+"/"+strings.Repeat("l", 20_000))
		w.Header().Set("X-Pad", strings.Repeat("x", 30_000))
		w.WriteHeader(http.StatusCreated)
	}), func(s *http.Server) { s.MaxHeaderBytes = 1 << 20 })
	c := clDial(t, addr, ClientConfig{MaxResponseHeaderBytes: 1 << 20})
	var resp ClientResponse
	if err := c.Do(context.Background(), &ClientRequest{Path: long}, &resp); err != nil {
		t.Fatal(err)
	}
	if want := long + "/" + strings.Repeat("l", 20_000); resp.Status != 201 || resp.Location != want {
		t.Errorf("status %d, location of %d bytes, want %d", resp.Status, len(resp.Location), len(want))
	}
	// The same answer (90 KB of headers) over a client that takes 64 KiB:
	// the call fails, the connection does not.
	small := clDial(t, addr, ClientConfig{MaxResponseHeaderBytes: 64 << 10})
	if err := small.Do(context.Background(), &ClientRequest{Path: long}, &resp); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("headers over the limit: %v", err)
	}
	if err := small.Do(context.Background(), &ClientRequest{Path: "/short"}, &resp); err != nil || resp.Status != 201 {
		t.Errorf("headers under the limit: %v %d", err, resp.Status)
	}
}

func TestClientShutdownGoAway(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	addr, srv := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			started.Done()
			<-release
		}
		_, _ = io.WriteString(w, "done")
	}), nil)
	c := clDial(t, addr, ClientConfig{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			var resp ClientResponse
			if err := c.Do(context.Background(), &ClientRequest{Path: "/hold"}, &resp); err != nil || string(resp.Body) != "done" {
				t.Errorf("a request in flight at the shutdown: %v %q", err, resp.Body)
			}
		})
	}
	started.Wait()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	// The server's GOAWAY makes the connection refuse new calls.
	deadline := time.Now().Add(5 * time.Second)
	for c.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var ga *GoAwayError
	if err := c.Err(); !errors.As(err, &ga) || ga.Code != http2.ErrCodeNo || !errors.Is(err, ErrNotProcessed) {
		t.Fatalf("after the server's GOAWAY: Err() = %v", err)
	}
	var resp ClientResponse
	if err := c.Do(context.Background(), &ClientRequest{Path: "/new"}, &resp); !errors.Is(err, ErrNotProcessed) ||
		!strings.Contains(err.Error(), "GOAWAY") {
		t.Errorf("a new call after GOAWAY: %v", err)
	}
	close(release)
	wg.Wait()
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestClientDialErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if _, err := Dial(ctx, closed, ClientConfig{}); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("nothing listening: %v", err)
	}

	h1 := httptest.NewServer(http.NotFoundHandler()) // HTTP/1.1 only
	t.Cleanup(h1.Close)
	if _, err := Dial(ctx, h1.Listener.Addr().String(), ClientConfig{}); err == nil ||
		!strings.Contains(err.Error(), "does not speak HTTP/2") {
		t.Errorf("HTTP/1.1 server: %v", err)
	}

	h1tls := httptest.NewTLSServer(http.NotFoundHandler()) // ALPN http/1.1 only
	t.Cleanup(h1tls.Close)
	tc := h1tls.Client().Transport.(*http.Transport).TLSClientConfig
	// Go's TLS server refuses a client whose protocols it does not offer.
	if _, err := Dial(ctx, h1tls.Listener.Addr().String(), ClientConfig{TLS: tc}); err == nil ||
		!strings.Contains(err.Error(), "no application protocol") {
		t.Errorf("TLS server without h2: %v", err)
	}

	// A server that never answers the preface: ctx ends the handshake.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	short, cancelShort := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelShort()
	if _, err := Dial(short, silent.Addr().String(), ClientConfig{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent server: %v", err)
	}
	if _, err := Dial(ctx, "127.0.0.1:1", ClientConfig{MaxResponseBody: -1}); err == nil {
		t.Error("negative MaxResponseBody accepted")
	}
}

func TestClientBadRequest(t *testing.T) {
	addr, _ := clH2C(t, clEcho, nil)
	c := clDial(t, addr, ClientConfig{})
	var resp ClientResponse
	for _, req := range []ClientRequest{
		{Path: ""},
		{Path: "relative"},
		{Path: "/with space"},
		{Path: "/crlf\r\n"},
		{Path: "/", Method: "GE T"},
		{Path: "/", ContentType: "a\nb"},
		{Path: "/", Authority: "a b"},
	} {
		if err := c.Do(context.Background(), &req, &resp); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%+v: %v", req, err)
		}
	}
	if err := c.Do(context.Background(), &ClientRequest{Path: "/ok"}, &resp); err != nil || resp.Status != 201 {
		t.Errorf("a good request after the bad ones: %v %d", err, resp.Status)
	}
}

func TestClientStreamIDsExhausted(t *testing.T) {
	addr, _ := clH2C(t, clEcho, nil)
	c := clDial(t, addr, ClientConfig{})
	c.mu.Lock()
	c.nextID = clMaxStreamID // the last stream id
	c.mu.Unlock()
	var resp ClientResponse
	if err := c.Do(context.Background(), &ClientRequest{Path: "/last"}, &resp); err != nil || resp.Status != 201 {
		t.Fatalf("the last stream id: %v", err)
	}
	if err := c.Do(context.Background(), &ClientRequest{Path: "/over"}, &resp); !errors.Is(err, ErrStreamIDsExhausted) ||
		!errors.Is(err, ErrNotProcessed) {
		t.Errorf("beyond the last stream id: %v", err)
	}
	if !errors.Is(c.Err(), ErrStreamIDsExhausted) {
		t.Errorf("Err() = %v", c.Err())
	}
}

func TestClientClose(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	addr, _ := clH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}), nil)
	c := clDial(t, addr, ClientConfig{})
	errc := make(chan error, 1)
	go func() {
		var resp ClientResponse
		errc <- c.Do(context.Background(), &ClientRequest{Path: "/"}, &resp)
	}()
	for clActive(c) == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClientClosed) {
			t.Errorf("call in flight at Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight hangs after Close")
	}
	var resp ClientResponse
	if err := c.Do(context.Background(), &ClientRequest{Path: "/"}, &resp); !errors.Is(err, ErrClientClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// --- a scripted server, for what net/http's server does not do ---

// clFakeConn is the server side of one connection of clFake.
type clFakeConn struct {
	t      testing.TB
	nc     net.Conn
	fr     *http2.Framer
	enc    *hpack.Encoder
	encBuf bytes.Buffer
	reqs   map[uint32]*clFakeReq
	// fields of the last header block, with Sensitive as decoded
	// (never-indexed literals)
	fields []hpack.HeaderField
	goAway *http2.ErrCode // the code of the client's GOAWAY
}

type clFakeReq struct {
	id     uint32
	fields []hpack.HeaderField
	body   []byte
	ended  bool
}

func (r *clFakeReq) header(name string) string { return (&Request{Fields: r.fields}).Header(name) }

// clFake starts a listener whose connections get the server preface with
// settings and are then handed to script.
func clFake(t *testing.T, settings []http2.Setting, script func(fc *clFakeConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Go(func() {
				defer nc.Close()
				fc := &clFakeConn{t: t, nc: nc, reqs: map[uint32]*clFakeReq{}}
				fc.fr = http2.NewFramer(nc, nc)
				fc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
				fc.enc = hpack.NewEncoder(&fc.encBuf)
				preface := make([]byte, len(http2.ClientPreface))
				if _, err := io.ReadFull(nc, preface); err != nil || string(preface) != http2.ClientPreface {
					t.Errorf("fake: preface %q: %v", preface, err)
					return
				}
				if err := fc.fr.WriteSettings(settings...); err != nil {
					return
				}
				script(fc)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// next reads frames until one the script wants: it records requests and
// ACKs SETTINGS. It returns nil when the connection ends.
func (fc *clFakeConn) next() http2.Frame {
	for {
		f, err := fc.fr.ReadFrame()
		if err != nil {
			return nil
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fc.fr.WriteSettingsAck()
			}
			continue
		case *http2.MetaHeadersFrame:
			fc.fields = append(fc.fields[:0], f.Fields...)
			fc.reqs[f.StreamID] = &clFakeReq{id: f.StreamID, fields: append([]hpack.HeaderField(nil), f.Fields...), ended: f.StreamEnded()}
		case *http2.DataFrame:
			if r := fc.reqs[f.StreamID]; r != nil {
				r.body = append(r.body, f.Data()...)
				r.ended = f.StreamEnded()
			}
		case *http2.GoAwayFrame:
			code := f.ErrCode
			fc.goAway = &code
		}
		return f
	}
}

// request reads frames until a request is complete and returns it (nil
// when the connection ends).
func (fc *clFakeConn) request() *clFakeReq {
	for {
		for id, r := range fc.reqs {
			if r.ended {
				delete(fc.reqs, id)
				return r
			}
		}
		if fc.next() == nil {
			return nil
		}
	}
}

// headers sends a header block of name, value pairs.
func (fc *clFakeConn) headers(id uint32, end bool, kv ...string) {
	fc.encBuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = fc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	_ = fc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: fc.encBuf.Bytes(), EndStream: end, EndHeaders: true})
}

func clDo(c *ClientConn, path string, body []byte) (*ClientResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var resp ClientResponse
	err := c.Do(ctx, &ClientRequest{Method: "POST", Path: path, Body: body}, &resp)
	return &resp, err
}

func TestClientHPACK(t *testing.T) {
	// With the server's HPACK table at 0 bytes, an encoder that indexed
	// anyway would refer to entries the server's decoder does not have.
	for _, table := range []uint32{4096, 0} {
		t.Run(fmt.Sprintf("table=%d", table), func(t *testing.T) {
			sensitive := make(chan map[string]bool, 10)
			addr := clFake(t, []http2.Setting{{ID: http2.SettingHeaderTableSize, Val: table}}, func(fc *clFakeConn) {
				fc.fr.ReadMetaHeaders = hpack.NewDecoder(table, nil)
				for {
					r := fc.request()
					if r == nil {
						return
					}
					s := map[string]bool{}
					for _, f := range fc.fields {
						s[f.Name] = f.Sensitive
					}
					sensitive <- s
					fc.headers(r.id, true, ":status", "204")
				}
			})
			c := clDial(t, addr, ClientConfig{})
			var resp ClientResponse
			for i := range 3 {
				req := ClientRequest{Method: "POST", Path: fmt.Sprintf("/sessions/%d", i), ContentType: "application/json",
					Accept: "application/json", Body: []byte("{}")}
				if err := c.Do(context.Background(), &req, &resp); err != nil || resp.Status != 204 {
					t.Fatalf("request %d: %v %d", i, err, resp.Status)
				}
				s := <-sensitive
				if !s[":path"] || !s["content-length"] || s["content-type"] || s["accept"] || s[":authority"] ||
					len(s) != 7 {
					t.Errorf("fields %v: want :path and content-length never indexed", s)
				}
			}
		})
	}
}

func TestClientFlowControlSettings(t *testing.T) {
	// The server starts with a stream window of 10 bytes; once it has
	// them, it opens the window with a SETTINGS delta and the connection
	// window with a WINDOW_UPDATE.
	got := make(chan string, 1)
	addr := clFake(t, []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 10}}, func(fc *clFakeConn) {
		var body []byte
		opened := false
		for {
			f := fc.next()
			if f == nil {
				return
			}
			d, ok := f.(*http2.DataFrame)
			if !ok {
				continue
			}
			body = append(body, d.Data()...)
			if !opened && len(body) > 10 {
				t.Errorf("fake: %d bytes received on a window of 10", len(body))
			}
			if d.StreamEnded() {
				got <- string(body)
				fc.headers(d.StreamID, true, ":status", "200")
				continue
			}
			if !opened && len(body) == 10 {
				opened = true
				_ = fc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
				_ = fc.fr.WriteWindowUpdate(0, 1<<20)
			}
		}
	})
	c := clDial(t, addr, ClientConfig{})
	body := strings.Repeat("0123456789", 10_000)
	resp, err := clDo(c, "/flow", []byte(body))
	if err != nil || resp.Status != 200 {
		t.Fatalf("%v %d", err, resp.Status)
	}
	if b := <-got; b != body {
		t.Errorf("the server got %d bytes, want %d", len(b), len(body))
	}
}

func TestClientPing(t *testing.T) {
	acked := make(chan [8]byte, 1)
	addr := clFake(t, nil, func(fc *clFakeConn) {
		_ = fc.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
		for {
			f := fc.next()
			if f == nil {
				return
			}
			if p, ok := f.(*http2.PingFrame); ok && p.IsAck() {
				acked <- p.Data
				return
			}
		}
	})
	clDial(t, addr, ClientConfig{})
	select {
	case d := <-acked:
		if d != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
			t.Errorf("PING ACK with %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no PING ACK")
	}
}

func TestClientGoAwayLastStream(t *testing.T) {
	addr := clFake(t, nil, func(fc *clFakeConn) {
		var ids []uint32
		for len(ids) < 3 {
			r := fc.request()
			if r == nil {
				return
			}
			ids = append(ids, r.id)
		}
		_ = fc.fr.WriteGoAway(ids[0], http2.ErrCodeNo, []byte("going"))
		fc.headers(ids[0], false, ":status", "200", "content-length", "2")
		_ = fc.fr.WriteData(ids[0], true, []byte("ok"))
		fc.next() // until the client closes
	})
	c := clDial(t, addr, ClientConfig{})
	type result struct {
		resp *ClientResponse
		err  error
	}
	results := make(chan result, 3)
	for i := range 3 {
		go func() {
			resp, err := clDo(c, "/"+strconv.Itoa(i), nil)
			results <- result{resp, err}
		}()
		for { // one after the other: stream ids 1, 3, 5
			c.mu.Lock()
			sent := c.nextID > uint32(2*i+1)
			c.mu.Unlock()
			if sent {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	var ok, refused int
	for range 3 {
		r := <-results
		var ga *GoAwayError
		switch {
		case r.err == nil && r.resp.Status == 200 && string(r.resp.Body) == "ok":
			ok++
		case errors.As(r.err, &ga) && ga.LastStreamID == 1 && ga.StreamID > 1 && ga.Debug == "going" &&
			errors.Is(r.err, ErrNotProcessed) && strings.Contains(r.err.Error(), "not processed"):
			refused++
		default:
			t.Errorf("unexpected: %+v %v", r.resp, r.err)
		}
	}
	if ok != 1 || refused != 2 {
		t.Errorf("%d answered, %d refused; want 1 and 2", ok, refused)
	}
	// The last stream done, the connection closes itself.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		closed := c.err != nil
		c.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection stays open after GOAWAY with no streams left")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientServerCloses(t *testing.T) {
	addr := clFake(t, nil, func(fc *clFakeConn) {
		for n := 0; n < 5; {
			if fc.request() == nil {
				return
			}
			n++
		}
		fc.nc.Close() // five requests pending, no answers
	})
	c := clDial(t, addr, ClientConfig{})
	errs := make(chan error, 5)
	for i := range 5 {
		go func() {
			_, err := clDo(c, "/"+strconv.Itoa(i), []byte("x"))
			errs <- err
		}()
	}
	for range 5 {
		select {
		case err := <-errs:
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) || !strings.Contains(err.Error(), "connection lost") {
				t.Errorf("pending call: %v", err)
			}
		case <-time.After(4 * time.Second):
			t.Fatal("a pending call hangs after the server closed the connection")
		}
	}
	if _, err := clDo(c, "/after", nil); err == nil || !strings.Contains(err.Error(), "connection lost") {
		t.Errorf("a call after: %v", err)
	}
}

func TestClientServerMisbehaves(t *testing.T) {
	big := strings.Repeat("b", 200)
	tests := []struct {
		name   string
		answer func(fc *clFakeConn, id uint32)
		want   error  // errors.Is
		text   string // in the error
		conn   bool   // a connection error: the next call fails too
	}{
		{"reset", func(fc *clFakeConn, id uint32) { _ = fc.fr.WriteRSTStream(id, http2.ErrCodeInternal) },
			nil, "reset stream 1 (INTERNAL_ERROR)", false},
		{"refused", func(fc *clFakeConn, id uint32) { _ = fc.fr.WriteRSTStream(id, http2.ErrCodeRefusedStream) },
			ErrNotProcessed, "REFUSED_STREAM", false},
		{"no status", func(fc *clFakeConn, id uint32) { fc.headers(id, true, "content-type", "text/plain") },
			ErrMalformedResponse, "no :status", false},
		{"bad status", func(fc *clFakeConn, id uint32) { fc.headers(id, true, ":status", "2000") },
			ErrMalformedResponse, ":status", false},
		{"request pseudo", func(fc *clFakeConn, id uint32) { fc.headers(id, true, ":status", "200", ":path", "/") },
			ErrMalformedResponse, "", false},
		{"upper case", func(fc *clFakeConn, id uint32) { fc.headers(id, true, ":status", "200", "X-Bad", "1") },
			ErrMalformedResponse, "upper-case", false},
		{"data first", func(fc *clFakeConn, id uint32) { _ = fc.fr.WriteData(id, true, []byte("x")) },
			ErrMalformedResponse, "before the response headers", false},
		{"short body", func(fc *clFakeConn, id uint32) {
			fc.headers(id, false, ":status", "200", "content-length", "10")
			_ = fc.fr.WriteData(id, true, []byte("x"))
		}, ErrMalformedResponse, "content-length 10", false},
		{"long body", func(fc *clFakeConn, id uint32) {
			fc.headers(id, false, ":status", "200", "content-length", "1")
			_ = fc.fr.WriteData(id, true, []byte("xy"))
		}, ErrMalformedResponse, "longer than its content-length", false},
		{"too large", func(fc *clFakeConn, id uint32) {
			fc.headers(id, false, ":status", "200")
			_ = fc.fr.WriteData(id, true, []byte(big))
		}, ErrResponseTooLarge, "over 100 bytes", false},
		{"too large announced", func(fc *clFakeConn, id uint32) {
			fc.headers(id, false, ":status", "200", "content-length", "200")
		}, ErrResponseTooLarge, "content-length 200", false},
		{"interim then final", func(fc *clFakeConn, id uint32) {
			fc.headers(id, false, ":status", "103", "link", "</a>")
			fc.headers(id, false, ":status", "200")
			_ = fc.fr.WriteData(id, false, []byte("o"))
			fc.headers(id, true, "x-trailer", "t") // trailers
		}, nil, "", false},
		{"push", func(fc *clFakeConn, id uint32) {
			_ = fc.fr.WritePushPromise(http2.PushPromiseParam{StreamID: id, PromiseID: 2, BlockFragment: []byte{0x82}, EndHeaders: true})
		}, nil, "PUSH_PROMISE", true},
		{"idle stream", func(fc *clFakeConn, id uint32) { fc.headers(id+2, true, ":status", "200") },
			nil, "did not open", true},
		{"bad hpack", func(fc *clFakeConn, id uint32) {
			_ = fc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0xff, 0xff, 0xff, 0xff}, EndHeaders: true})
		}, nil, "COMPRESSION_ERROR", true},
		{"window overflow", func(fc *clFakeConn, id uint32) { _ = fc.fr.WriteWindowUpdate(0, 1<<31-1) },
			nil, "FLOW_CONTROL_ERROR", true},
		{"garbage", func(fc *clFakeConn, id uint32) { _, _ = fc.nc.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) },
			nil, "connection error", true},
		{"continuation alone", func(fc *clFakeConn, id uint32) { _ = fc.fr.WriteContinuation(id, true, []byte{0x88}) },
			nil, "CONTINUATION", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			goaway := make(chan http2.ErrCode, 1)
			addr := clFake(t, nil, func(fc *clFakeConn) {
				for {
					r := fc.request()
					if r == nil {
						if fc.goAway != nil {
							goaway <- *fc.goAway
						}
						return
					}
					if r.header(":path") == "/misbehave" {
						tc.answer(fc, r.id)
						continue
					}
					fc.headers(r.id, true, ":status", "204")
				}
			})
			c := clDial(t, addr, ClientConfig{MaxResponseBody: 100})
			resp, err := clDo(c, "/misbehave", nil)
			switch {
			case tc.want == nil && tc.text == "":
				if err != nil || resp.Status != 200 || string(resp.Body) != "o" {
					t.Errorf("%v, status %d, body %q", err, resp.Status, resp.Body)
				}
			case err == nil, tc.want != nil && !errors.Is(err, tc.want), !strings.Contains(err.Error(), tc.text):
				t.Errorf("error %v, want %v with %q", err, tc.want, tc.text)
			}
			_, err2 := clDo(c, "/next", nil)
			if tc.conn {
				var pe *ProtocolError
				if !errors.As(err, &pe) || err2 == nil || c.Err() == nil {
					t.Errorf("a connection error: %v; next call %v", err, err2)
				}
				select {
				case code := <-goaway:
					if code != pe.Code || code == http2.ErrCodeNo {
						t.Errorf("the client's GOAWAY has %v; the error %v", code, err)
					}
				case <-time.After(5 * time.Second):
					t.Error("no GOAWAY from the client")
				}
			} else if err2 != nil {
				t.Errorf("the next call on the connection: %v", err2)
			}
		})
	}
}

// FuzzClientFrames feeds arbitrary bytes as the server's frames after its
// SETTINGS: the client must neither panic nor hang.
func FuzzClientFrames(f *testing.F) {
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "201", "location", "/x/1"), EndHeaders: true})
		_ = fr.WriteData(1, true, []byte(`{"a":1}`))
	}))
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		blk := enc(":status", "200", "content-length", "3")
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:2]})
		_ = fr.WriteContinuation(1, true, blk[2:])
		_ = fr.WriteWindowUpdate(0, 100)
		_ = fr.WritePing(false, [8]byte{})
		_ = fr.WriteDataPadded(1, true, []byte("abc"), make([]byte, 5))
	}))
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		_ = fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, []byte("calm"))
	}))
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		_ = fr.WriteRSTStream(1, http2.ErrCodeRefusedStream)
	}))
	f.Fuzz(func(t *testing.T, in []byte) {
		cn, sn := net.Pipe()
		go func() {
			defer sn.Close()
			go func() { _, _ = io.Copy(io.Discard, sn) }()
			fr := http2.NewFramer(sn, nil)
			if fr.WriteSettings() != nil {
				return
			}
			_, _ = sn.Write(in)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := Dial(ctx, "fuzz:1", ClientConfig{MaxResponseBody: 1 << 10,
			DialContext: func(context.Context, string, string) (net.Conn, error) { return cn, nil }})
		if err != nil {
			return
		}
		defer c.Close()
		var resp ClientResponse
		dctx, dcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer dcancel()
		_ = c.Do(dctx, &ClientRequest{Method: "POST", Path: "/x", Body: []byte("{}")}, &resp)
	})
}

// --- benchmarks ---

// clBenchServers start the servers BenchmarkClientDo runs against: an
// answer of 600 bytes of the body with a Location, as the CHF's.
func clBenchServers(b *testing.B) map[string]string {
	nh, _ := clH2C(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/nchf-convergedcharging/v3/chargingdata/"+strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body[:min(len(body), 600)])
	}), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &Server{Handler: HandlerFunc(func(_ context.Context, req *Request, res *Response) {
		res.Status = http.StatusCreated
		res.Header = append(res.Header, Field{Name: "content-type", Value: "application/json"},
			Field{Name: "location", Value: "/nchf-convergedcharging/v3/chargingdata/" + strconv.Itoa(len(req.Body)), Sensitive: true})
		res.Body = append(res.Body, req.Body[:min(len(req.Body), 600)]...)
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	b.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return map[string]string{"net-http": nh, "h2": ln.Addr().String()}
}

// BenchmarkClientDo compares this client with net/http's HTTP/2 client,
// 64 calls in flight on one connection, against in-process h2c servers
// (net/http's and this package's). The server's CPU is in the figures
// too: the difference between the clients is theirs.
func BenchmarkClientDo(b *testing.B) {
	servers := clBenchServers(b)
	for _, server := range []string{"net-http", "h2"} {
		addr := servers[server]
		for _, size := range []int{256, 1200} {
			body := bytes.Repeat([]byte("x"), size)
			b.Run(fmt.Sprintf("server=%s/client=h2/body=%d", server, size), func(b *testing.B) {
				c := clDial(b, addr, ClientConfig{})
				var seq atomic.Uint64
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.SetParallelism(32)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					var resp ClientResponse
					req := ClientRequest{Method: "POST", ContentType: "application/json", Accept: "application/json", Body: body}
					for pb.Next() {
						req.Path = "/nchf-convergedcharging/v3/chargingdata/" + strconv.FormatUint(seq.Add(1), 10) + "/update"
						if err := c.Do(context.Background(), &req, &resp); err != nil || resp.Status != 201 {
							b.Errorf("%v %d", err, resp.Status)
							return
						}
					}
				})
			})
			b.Run(fmt.Sprintf("server=%s/client=net-http/body=%d", server, size), func(b *testing.B) {
				var p http.Protocols
				p.SetUnencryptedHTTP2(true)
				tr := &http.Transport{Protocols: &p}
				b.Cleanup(tr.CloseIdleConnections)
				hc := &http.Client{Transport: tr}
				var seq atomic.Uint64
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.SetParallelism(32)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					var buf bytes.Buffer
					for pb.Next() {
						u := "http://" + addr + "/nchf-convergedcharging/v3/chargingdata/" + strconv.FormatUint(seq.Add(1), 10) + "/update"
						req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
						req.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
						res, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						buf.Reset()
						_, _ = buf.ReadFrom(res.Body)
						res.Body.Close()
						if res.StatusCode != 201 {
							b.Errorf("status %d", res.StatusCode)
							return
						}
					}
				})
			})
		}
	}
}
