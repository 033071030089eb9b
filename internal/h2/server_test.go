package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// echo answers a POST with its body (201, a Location naming the path),
// /empty with 204, /big?n=N with N bytes, /slow once its release channel
// closes, and anything else with 200 "ok".
type echo struct {
	calls   atomic.Int64
	release chan struct{}
}

func (e *echo) ServeH2(ctx context.Context, req *Request, res *Response) {
	e.calls.Add(1)
	switch {
	case req.TooLarge:
		res.Status = http.StatusRequestEntityTooLarge
		res.Body = append(res.Body, "too large"...)
	case strings.HasPrefix(req.Path, "/big?n="):
		n, _ := strconv.Atoi(strings.TrimPrefix(req.Path, "/big?n="))
		res.Status = http.StatusOK
		for i := range n {
			res.Body = append(res.Body, byte('a'+i%26))
		}
	case req.Path == "/slow":
		select {
		case <-e.release:
		case <-ctx.Done():
		}
		res.Status = http.StatusOK
		res.Body = append(res.Body, "slow"...)
	case req.Method == http.MethodPost:
		res.Status = http.StatusCreated
		res.Header = append(res.Header,
			Field{Name: "content-type", Value: req.Header("content-type")},
			Field{Name: "location", Value: "http://" + req.Authority + req.Path, Sensitive: true})
		res.Body = append(res.Body, req.Body...)
	case req.Path == "/empty":
		res.Status = http.StatusNoContent
	default:
		res.Status = http.StatusOK
		res.Body = append(res.Body, "ok"...)
	}
}

// startServer serves h on a loopback port (TLS when cfg is set) with an
// HTTP/1.1 fallback that answers "h1".
func startServer(t *testing.T, h Handler, cfg *tls.Config, tune func(*Server)) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, TLSConfig: cfg, Fallback: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "h1 "+r.Proto)
	})}}
	if tune != nil {
		tune(s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return s, ln.Addr().String()
}

func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 20 * time.Second}
}

func TestServerWithNetHTTPClient(t *testing.T) {
	e := &echo{}
	_, addr := startServer(t, e, nil, func(s *Server) { s.MaxBodySize = 8 << 20 })
	client := h2cClient()
	base := "http://" + addr

	t.Run("concurrent", func(t *testing.T) {
		// Four connections: streams are pooled across connections, and a
		// stream freed while its handler still read it was reused by
		// another connection (found by the race detector).
		clients := []*http.Client{client, h2cClient(), h2cClient(), h2cClient()}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 64 {
			client := clients[w%len(clients)]
			wg.Go(func() {
				for i := range 50 {
					body := fmt.Sprintf(`{"worker":%d,"i":%d}`, w, i)
					res, err := client.Post(base+"/chargingdata/"+strconv.Itoa(w*1000+i), "application/json", strings.NewReader(body))
					if err != nil {
						errs <- err
						return
					}
					got, _ := io.ReadAll(res.Body)
					res.Body.Close()
					switch {
					case res.ProtoMajor != 2:
						errs <- fmt.Errorf("proto %s", res.Proto)
					case res.StatusCode != 201 || string(got) != body:
						errs <- fmt.Errorf("status %d body %q, want 201 %q", res.StatusCode, got, body)
					case res.Header.Get("Location") != base+"/chargingdata/"+strconv.Itoa(w*1000+i):
						errs <- fmt.Errorf("location %q", res.Header.Get("Location"))
					case res.Header.Get("Content-Type") != "application/json" || res.ContentLength != int64(len(body)):
						errs <- fmt.Errorf("content-type %q length %d", res.Header.Get("Content-Type"), res.ContentLength)
					case res.Header.Get("Date") == "":
						errs <- errors.New("no date")
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
	t.Run("no content", func(t *testing.T) {
		res, err := client.Get(base + "/empty")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("large request body", func(t *testing.T) {
		// 5 MiB: more than our 1 MiB stream window, so the client waits for
		// WINDOW_UPDATEs.
		body := bytes.Repeat([]byte("0123456789abcdef"), 5<<16)
		res, err := client.Post(base+"/up", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 201 || !bytes.Equal(got, body) {
			t.Fatalf("status %d, %d bytes back of %d", res.StatusCode, len(got), len(body))
		}
	})
	t.Run("large response body", func(t *testing.T) {
		// 3 MiB: more than the client's windows, so we wait for its
		// WINDOW_UPDATEs.
		n := 3 << 20
		res, err := client.Get(base + "/big?n=" + strconv.Itoa(n))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if len(got) != n || got[n-1] != byte('a'+(n-1)%26) {
			t.Fatalf("%d bytes, want %d", len(got), n)
		}
	})
	t.Run("http1 fallback", func(t *testing.T) {
		res, err := http.Get(base + "/h1")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != "h1 HTTP/1.1" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestServerTooLarge(t *testing.T) {
	e := &echo{}
	_, addr := startServer(t, e, nil, func(s *Server) { s.MaxBodySize = 1000 })
	client := h2cClient()
	for _, n := range []int{1000, 1001, 300 << 10} {
		res, err := client.Post("http://"+addr+"/p", "application/json", bytes.NewReader(make([]byte, n)))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := 201
		if n > 1000 {
			want = 413
		}
		if res.StatusCode != want {
			t.Fatalf("%d bytes: status %d (%s), want %d", n, res.StatusCode, got, want)
		}
	}
	// The connection still works.
	res, err := client.Post("http://"+addr+"/p", "application/json", strings.NewReader("{}"))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("after: %v %v", res, err)
	}
	res.Body.Close()
}

func TestServerTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil) // only for its certificate
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	pool := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	ts.Close()

	e := &echo{}
	_, addr := startServer(t, e, &tls.Config{Certificates: []tls.Certificate{cert}}, nil)
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	res, err := h2.Post("https://"+addr+"/p", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != 201 || string(got) != `{"a":1}` || res.Header.Get("Location") != "http://"+addr+"/p" {
		t.Fatalf("%s %d %q %q", res.Proto, res.StatusCode, got, res.Header.Get("Location"))
	}
	// HTTP/1.1 over TLS goes to the fallback.
	var p http.Protocols
	p.SetHTTP1(true)
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: &p}}
	res, err = h1.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if string(got) != "h1 HTTP/1.1" {
		t.Fatalf("got %q", got)
	}
}

// TestServerShutdown: a request in flight when Shutdown starts is answered;
// a new stream after the GOAWAY is refused; Shutdown returns once it is.
func TestServerShutdown(t *testing.T) {
	e := &echo{release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: e}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	client := h2cClient()
	got := make(chan string, 1)
	go func() {
		res, err := client.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- string(b)
	}()
	for e.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(e.release)
	if g := <-got; g != "slow" {
		t.Fatalf("in-flight request: %q", g)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("the listener still accepts")
	}
}

// rawConn is a hand-driven client connection, for what a well-behaved
// client never sends.
type rawConn struct {
	t   *testing.T
	nc  net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawConn{t: t, nc: nc, fr: http2.NewFramer(nc, nc)}
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.buf)
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *rawConn) headers(id uint32, end bool, fields ...string) {
	c.buf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = c.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.buf.Bytes(), EndStream: end, EndHeaders: true}); err != nil {
		c.t.Fatal(err)
	}
}

// next reads frames until one that is not SETTINGS, WINDOW_UPDATE or PING.
func (c *rawConn) next() http2.Frame {
	c.t.Helper()
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		switch f.(type) {
		case *http2.SettingsFrame, *http2.WindowUpdateFrame, *http2.PingFrame:
			continue
		}
		return f
	}
}

func TestServerProtocolErrors(t *testing.T) {
	e := &echo{}
	_, addr := startServer(t, e, nil, func(s *Server) { s.MaxConcurrentStreams = 2 })
	req := []string{":method", "POST", ":scheme", "http", ":path", "/p", ":authority", "x"}

	t.Run("missing path resets the stream, the connection lives", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.headers(1, true, ":method", "GET", ":scheme", "http")
		if f, ok := c.next().(*http2.RSTStreamFrame); !ok || f.StreamID != 1 || f.ErrCode != http2.ErrCodeProtocol {
			t.Fatalf("want RST_STREAM PROTOCOL_ERROR on 1, got %v", f)
		}
		c.headers(3, true, req...)
		if f, ok := c.next().(*http2.MetaHeadersFrame); !ok || f.PseudoValue("status") != "201" {
			t.Fatalf("want a 201 on 3, got %v", f)
		}
	})
	t.Run("even stream id is a connection error", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.headers(2, true, req...)
		if f, ok := c.next().(*http2.GoAwayFrame); !ok || f.ErrCode != http2.ErrCodeProtocol {
			t.Fatalf("want GOAWAY PROTOCOL_ERROR, got %v", f)
		}
	})
	t.Run("content-length mismatch", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.headers(1, false, append(req, "content-length", "10")...)
		_ = c.fr.WriteData(1, true, []byte("short"))
		if f, ok := c.next().(*http2.RSTStreamFrame); !ok || f.ErrCode != http2.ErrCodeProtocol {
			t.Fatalf("want RST_STREAM PROTOCOL_ERROR, got %v", f)
		}
	})
	t.Run("over max concurrent streams is refused", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.headers(1, false, req...) // open, body never ends
		c.headers(3, false, req...)
		c.headers(5, false, req...)
		if f, ok := c.next().(*http2.RSTStreamFrame); !ok || f.StreamID != 5 || f.ErrCode != http2.ErrCodeRefusedStream {
			t.Fatalf("want RST_STREAM REFUSED_STREAM on 5, got %v", f)
		}
		_ = c.fr.WriteData(1, true, []byte("x"))
		if f, ok := c.next().(*http2.MetaHeadersFrame); !ok || f.StreamID != 1 {
			t.Fatalf("want the answer on 1, got %v", f)
		}
	})
	t.Run("a client reset drops the answer", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.headers(1, false, req...)
		_ = c.fr.WriteRSTStream(1, http2.ErrCodeCancel)
		_ = c.fr.WritePing(false, [8]byte{1})
		for {
			f, err := c.fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := f.(*http2.PingFrame); ok && p.IsAck() {
				break
			}
			if _, ok := f.(*http2.HeadersFrame); ok {
				t.Fatal("an answer on a reset stream")
			}
		}
	})
}

// TestServerH2Spec runs h2spec (github.com/summerwind/h2spec), the HTTP/2
// conformance suite, when it is installed; CI installs it.
func TestServerH2Spec(t *testing.T) {
	bin, err := exec.LookPath("h2spec")
	if err != nil {
		if home, herr := os.UserHomeDir(); herr == nil {
			if _, serr := os.Stat(home + "/go/bin/h2spec"); serr == nil {
				bin = home + "/go/bin/h2spec"
			}
		}
	}
	if bin == "" {
		if os.Getenv("TOLLGATE_REQUIRE_SERVICES") != "" {
			t.Fatal("h2spec is not installed (go install github.com/summerwind/h2spec/cmd/h2spec@latest)")
		}
		t.Skip("h2spec is not installed")
	}
	// Without a fallback: a connection that does not start with the
	// preface is closed (with one, it is served as HTTP/1.1).
	_, addr := startServer(t, &echo{}, nil, func(s *Server) { s.Fallback = nil })
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(bin, "-h", host, "-p", port, "-o", "10").CombinedOutput()
	if err != nil {
		t.Fatalf("h2spec: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Log(lines[len(lines)-1])
}

// TestServerCurl: curl (libnghttp2, an independent HTTP/2 implementation)
// posts with prior knowledge and reads the echo, when curl is installed.
func TestServerCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	if out, _ := exec.Command(curl, "--version").Output(); !strings.Contains(string(out), "HTTP2") {
		t.Skip("curl has no HTTP/2")
	}
	_, addr := startServer(t, &echo{}, nil, nil)
	out, err := exec.Command(curl, "-sS", "-i", "--http2-prior-knowledge", "-X", "POST",
		"-H", "Content-Type: application/json", "-d", `{"curl":true}`, "http://"+addr+"/chargingdata").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	got := strings.ReplaceAll(string(out), "\r\n", "\n")
	for _, want := range []string{"HTTP/2 201", "location: http://" + addr + "/chargingdata", "content-type: application/json", "content-length: 13", "\n\n{\"curl\":true}"} {
		if !strings.Contains(got, want) {
			t.Errorf("curl output lacks %q:\n%s", want, got)
		}
	}
}

// frames is the seed corpus of the frame fuzzers: the frames write encodes,
// enc giving a header block (one HPACK encoder for the whole input).
func frames(write func(fr *http2.Framer, enc func(kv ...string) []byte)) []byte {
	var b, hb bytes.Buffer
	fr := http2.NewFramer(&b, nil)
	e := hpack.NewEncoder(&hb)
	write(fr, func(kv ...string) []byte {
		hb.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			_ = e.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return bytes.Clone(hb.Bytes())
	})
	return b.Bytes()
}

// FuzzServerFrames feeds arbitrary bytes, after the preface and a SETTINGS
// frame, to a server connection: it must neither panic nor hang (the
// connection ends once the input does), whatever the frames say.
func FuzzServerFrames(f *testing.F) {
	post := []string{":method", "POST", ":scheme", "http", ":path", "/p", ":authority", "x", "content-type", "application/json"}
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(post...), EndHeaders: true})
		_ = fr.WriteData(1, true, []byte(`{"a":1}`))
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: enc(":method", "GET", ":scheme", "http", ":path", "/big?n=70000"), EndHeaders: true, EndStream: true})
	}))
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		blk := enc(append(post, "content-length", "3")...)
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:3]})
		_ = fr.WriteContinuation(1, true, blk[3:])
		_ = fr.WriteDataPadded(1, false, []byte("ab"), make([]byte, 4))
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc("x-trailer", "1"), EndHeaders: true, EndStream: true})
	}))
	f.Add(frames(func(fr *http2.Framer, enc func(kv ...string) []byte) {
		_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 16384})
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":method", "GET", ":scheme", "http", ":path", "/big?n=100"), EndHeaders: true, EndStream: true})
		_ = fr.WriteWindowUpdate(1, 10)
		_ = fr.WriteWindowUpdate(0, 1<<30)
		_ = fr.WritePing(false, [8]byte{1, 2})
		_ = fr.WritePriority(3, http2.PriorityParam{StreamDep: 3})
		_ = fr.WriteRSTStream(1, http2.ErrCodeCancel)
		_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	}))
	f.Fuzz(func(t *testing.T, in []byte) {
		cn, sn := net.Pipe()
		s := &Server{Handler: &echo{}, MaxBodySize: 4096, HandshakeTimeout: time.Second, WriteTimeout: time.Second}
		s.conns = map[*conn]struct{}{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveConn(sn, bufio.NewReader(sn), false)
		}()
		go func() { _, _ = io.Copy(io.Discard, cn) }()
		_ = cn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		var hdr bytes.Buffer
		_ = http2.NewFramer(&hdr, nil).WriteSettings()
		_, _ = cn.Write(hdr.Bytes())
		_, _ = cn.Write(in)
		cn.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the server connection did not end after its input did")
		}
	})
}

func TestServerMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg, "test")
	_, addr := startServer(t, &echo{}, nil, func(s *Server) { s.Metrics = m })
	client := h2cClient()
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := client.Post("http://"+addr+"/p", "application/json", strings.NewReader(strconv.Itoa(i)))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		})
	}
	wg.Wait()
	clientConns := testutil.ToFloat64(m.conns) // net/http may dial more than one
	if clientConns < 1 {
		t.Fatalf("%v connections counted", clientConns)
	}
	c := dialRaw(t, addr)
	c.headers(1, true, ":method", "GET", ":scheme", "http") // no :path: RST_STREAM PROTOCOL_ERROR
	c.next()
	c.headers(2, true, ":method", "GET", ":scheme", "http", ":path", "/") // even id: GOAWAY PROTOCOL_ERROR
	c.next()
	for name, want := range map[string]float64{
		"requests":  n,
		"conns":     clientConns + 1,
		"rst":       1,
		"goaway":    1,
		"open conn": clientConns, // the raw one is closed, the client's are open
	} {
		var got float64
		switch name {
		case "requests":
			got = testutil.ToFloat64(m.requests)
		case "conns":
			got = testutil.ToFloat64(m.conns)
		case "rst":
			got = testutil.ToFloat64(m.rst.WithLabelValues("PROTOCOL_ERROR"))
		case "goaway":
			got = testutil.ToFloat64(m.goaway.WithLabelValues("PROTOCOL_ERROR"))
		case "open conn":
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if got = testutil.ToFloat64(m.open); got == want {
					break
				}
			}
		}
		if got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if w := testutil.ToFloat64(m.writes); w < 1 || w > n+10 {
		t.Errorf("writes %v for %d requests", w, n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Error(err)
	}
}
