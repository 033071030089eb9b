package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The client side of the package: ClientConn is one HTTP/2 connection to a
// server that many goroutines share. Its lock order: ClientConn.mu only;
// no other lock is held with it. Three kinds of goroutines touch a
// connection:
//
//   - callers of Do encode their request's frames under mu into the
//     pending buffer (stream ids, HPACK encoder state and the order on the
//     wire go together), then wait for their stream's done channel;
//   - the reader goroutine reads and decodes frames, and under mu fills
//     the waiting call's response and signals done;
//   - the writer goroutine swaps the pending buffer for its spare one
//     under mu and writes it with one syscall outside the lock: every frame
//     queued while the previous write ran goes out in the next one.

// ClientConfig configures a client connection ([Dial]). The zero value
// speaks h2c (HTTP/2 over cleartext TCP, prior knowledge).
type ClientConfig struct {
	// TLS, when not nil, speaks HTTP/2 over TLS: its NextProtos are set to
	// "h2" and the server must choose it by ALPN. ServerName defaults to
	// the host of the address dialled.
	TLS *tls.Config
	// MaxResponseBody bounds the body of a response; a larger one fails
	// its call with ErrResponseTooLarge. Default 1 MiB.
	MaxResponseBody int
	// MaxResponseHeaderBytes bounds the decoded header list of a response
	// (RFC 9113 §6.5.2, SETTINGS_MAX_HEADER_LIST_SIZE). Default 64 KiB.
	MaxResponseHeaderBytes int
	// DialContext opens the TCP connection; default a net.Dialer with a
	// 30 s keep-alive.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

const (
	clDefaultMaxBody    = 1 << 20
	clDefaultMaxHeaders = 64 << 10
	// clStreamWindow is the receive window of a stream
	// (SETTINGS_INITIAL_WINDOW_SIZE); a WINDOW_UPDATE returns what the
	// server used once half of it is.
	clStreamWindow = 256 << 10
	// clConnWindow is the receive window of the connection.
	clConnWindow = 16 << 20
	// clMaxWindow is the largest flow-control window (RFC 9113 §6.9.1).
	clMaxWindow = 1<<31 - 1
	// clMaxStreamID is the largest stream id.
	clMaxStreamID = 1<<31 - 1
	// clDefaultWindow is the initial window before SETTINGS say otherwise.
	clDefaultWindow = 65535
	// clReadBuffer is the size of the reader's buffer.
	clReadBuffer = 64 << 10
	// clFinalWrite bounds the last write of a closing connection (its
	// GOAWAY).
	clFinalWrite = time.Second
)

// Errors of the client. A call fails with an error that wraps one of these
// or is one of the types below.
var (
	// ErrClientClosed: Close was called.
	ErrClientClosed = errors.New("h2: client connection closed")
	// ErrNotProcessed is wrapped by the errors of requests the server has
	// certainly not processed: refused by GOAWAY or REFUSED_STREAM, or
	// never sent because the connection ran out of stream ids. Such a
	// request can be retried on another connection.
	ErrNotProcessed = errors.New("h2: request not processed by the server")
	// ErrStreamIDsExhausted: the connection has used all stream ids; dial
	// another.
	ErrStreamIDsExhausted = fmt.Errorf("h2: connection out of stream ids: %w", ErrNotProcessed)
	// ErrResponseTooLarge: a response body was larger than
	// ClientConfig.MaxResponseBody, or the response headers larger than
	// MaxResponseHeaderBytes.
	ErrResponseTooLarge = errors.New("h2: response too large")
	// ErrMalformedResponse: the server's response broke HTTP/2's rules for
	// a message (RFC 9113 §8.1.1); the stream was reset.
	ErrMalformedResponse = errors.New("h2: malformed response")
	// ErrBadRequest: the request cannot be sent as it is.
	ErrBadRequest = errors.New("h2: bad request")
)

// GoAwayError fails the calls the server will not process because it sent
// GOAWAY: those on streams above LastStreamID, and new calls. It matches
// ErrNotProcessed.
type GoAwayError struct {
	LastStreamID uint32
	Code         http2.ErrCode
	Debug        string // the server's debug data
	// StreamID is the call's stream; 0 when the call was not sent.
	StreamID uint32
}

func (e *GoAwayError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "h2: server sent GOAWAY (%v, last stream %d", e.Code, e.LastStreamID)
	if e.Debug != "" {
		fmt.Fprintf(&b, ", %q", e.Debug)
	}
	if e.StreamID == 0 {
		b.WriteString("): request not sent")
	} else {
		fmt.Fprintf(&b, "): stream %d not processed", e.StreamID)
	}
	return b.String()
}

// Is reports that the request was not processed.
func (e *GoAwayError) Is(target error) bool { return target == ErrNotProcessed }

// StreamResetError fails a call whose stream the server reset
// (RST_STREAM). With REFUSED_STREAM it matches ErrNotProcessed.
type StreamResetError struct {
	StreamID uint32
	Code     http2.ErrCode
}

func (e *StreamResetError) Error() string {
	return fmt.Sprintf("h2: server reset stream %d (%v)", e.StreamID, e.Code)
}

// Is reports whether a REFUSED_STREAM reset means the request was not
// processed.
func (e *StreamResetError) Is(target error) bool {
	return target == ErrNotProcessed && e.Code == http2.ErrCodeRefusedStream
}

// ProtocolError is a connection error (RFC 9113 §5.4.1): the server broke
// the protocol, so the client sent GOAWAY with Code and closed the
// connection; every call on it fails with this error.
type ProtocolError struct {
	Code   http2.ErrCode
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("h2: connection error %v: %s", e.Code, e.Reason)
}

// ClientRequest is one request. Path carries the query, if any.
type ClientRequest struct {
	// Method defaults to GET.
	Method string
	// Scheme defaults to the connection's: http (h2c) or https (TLS).
	Scheme string
	// Authority defaults to the address dialled.
	Authority string
	// Path is the request target: it starts with "/".
	Path string
	// ContentType and Accept, when not empty, are sent as content-type and
	// accept.
	ContentType, Accept string
	// Body is the whole request body; content-length is sent with it.
	Body []byte
}

// ClientResponse is what Do reads. Do resets the fields and appends the
// body to Body[:0], so a ClientResponse reused across calls reuses its
// body's capacity.
type ClientResponse struct {
	Status      int
	Location    string
	ContentType string
	Body        []byte
}

// ClientConn is one client HTTP/2 connection; it is safe for concurrent use
// by many goroutines, each call on its own stream. Close it when done.
type ClientConn struct {
	nc                net.Conn
	scheme, authority string
	maxBody           int
	maxHeaders        int
	flushCh           chan struct{} // wakes the writer; capacity 1
	wg                sync.WaitGroup
	// refusing is set once the connection takes no new calls (a fast
	// path for Err).
	refusing atomic.Bool

	// The reader goroutine's own.
	rfr   *http2.Framer
	nr    *clNetReader
	dec   *hpack.Decoder
	block clHeaderBlock

	mu          sync.Mutex
	out         frameBuf      // frames waiting for the writer
	wfr         *http2.Framer // writes into out
	flushQueued bool          // flushCh was signalled and the writer has not taken out yet
	enc         *hpack.Encoder
	encBuf      bytes.Buffer
	streams     map[uint32]*clStream
	nextID      uint32
	active      int // streams open: counted against maxStreams
	// wake is closed (and cleared) to wake the calls waiting for a free
	// stream slot or send window; made only when one waits.
	wake chan struct{}
	// The server's settings.
	maxStreams     uint32
	peerWindow     int64 // SETTINGS_INITIAL_WINDOW_SIZE
	peerMaxFrame   uint32
	peerMaxHeaders uint32 // 0: no limit
	// Flow control: what the client may still send on the connection, and
	// what the server may still send and what it used since the last
	// WINDOW_UPDATE.
	sendWindow  int64
	recvWindow  int64
	recvUnacked int64
	goAway      *GoAwayError
	err         error // terminal: every call fails with it
}

// clNetReader remembers the connection's read error, to tell a lost
// connection from a frame the Framer could not parse.
type clNetReader struct {
	r   io.Reader
	err error
}

func (r *clNetReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// clStream is one call in flight. Pooled: it belongs to the connection
// while it is in streams, and to its call otherwise.
type clStream struct {
	id   uint32
	done chan struct{} // capacity 1: one send when the call completes
	err  error

	body       []byte // request body not sent yet
	endSent    bool   // END_STREAM sent
	sendWindow int64

	resp          *ClientResponse
	head          bool  // a HEAD request: no body follows
	gotHeaders    bool  // the final (non-1xx) response headers came
	contentLength int64 // -1: none
	recvWindow    int64
	recvUnacked   int64
}

var clStreamPool = sync.Pool{New: func() any { return &clStream{done: make(chan struct{}, 1)} }}

// Dial connects to addr (host:port) and performs the HTTP/2 handshake: the
// client preface and SETTINGS, and the server's SETTINGS, which Dial waits
// for. ctx bounds the dial and the handshake only.
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*ClientConn, error) {
	if cfg.MaxResponseBody < 0 || cfg.MaxResponseHeaderBytes < 0 {
		return nil, fmt.Errorf("h2: negative limit in ClientConfig (MaxResponseBody %d, MaxResponseHeaderBytes %d)",
			cfg.MaxResponseBody, cfg.MaxResponseHeaderBytes)
	}
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("h2: dial %s: %w", addr, err)
	}
	scheme := "http"
	if cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		tc.NextProtos = []string{http2.NextProtoTLS}
		if tc.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				tc.ServerName = host
			}
		}
		tconn := tls.Client(nc, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("h2: TLS handshake with %s (ALPN h2): %w", addr, err)
		}
		if p := tconn.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
			nc.Close()
			return nil, fmt.Errorf("h2: %s did not choose HTTP/2 by ALPN (chose %q)", addr, p)
		}
		nc, scheme = tconn, "https"
	}
	c := newClientConn(nc, scheme, addr, cfg)
	if err := c.handshake(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("h2: handshake with %s: %w", addr, err)
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c, nil
}

func newClientConn(nc net.Conn, scheme, authority string, cfg ClientConfig) *ClientConn {
	c := &ClientConn{
		nc: nc, scheme: scheme, authority: authority,
		maxBody: cfg.MaxResponseBody, maxHeaders: cfg.MaxResponseHeaderBytes,
		flushCh:    make(chan struct{}, 1),
		streams:    map[uint32]*clStream{},
		nextID:     1,
		maxStreams: math.MaxUint32, // no limit unless the server's SETTINGS say so
		peerWindow: clDefaultWindow, peerMaxFrame: 16384,
		sendWindow: clDefaultWindow, recvWindow: clConnWindow,
	}
	if c.maxBody == 0 {
		c.maxBody = clDefaultMaxBody
	}
	if c.maxHeaders == 0 {
		c.maxHeaders = clDefaultMaxHeaders
	}
	c.nr = &clNetReader{r: nc}
	c.rfr = http2.NewFramer(io.Discard, bufio.NewReaderSize(c.nr, clReadBuffer))
	c.rfr.SetReuseFrames()
	c.rfr.SetMaxReadFrameSize(16384) // the default SETTINGS_MAX_FRAME_SIZE, which we keep
	c.dec = hpack.NewDecoder(4096, c.block.field)
	c.dec.SetMaxStringLength(c.maxHeaders)
	c.block.max = c.maxHeaders
	c.wfr = http2.NewFramer(&c.out, nil)
	c.enc = hpack.NewEncoder(&c.encBuf)
	return c
}

// handshake sends the preface, SETTINGS and the connection window, and
// applies the server's SETTINGS, the first frame it must send.
func (c *ClientConn) handshake(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.out.b = append(c.out.b, http2.ClientPreface...)
	_ = c.wfr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: clStreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: uint32(c.maxHeaders)},
	)
	_ = c.wfr.WriteWindowUpdate(0, clConnWindow-clDefaultWindow)
	if _, err := c.nc.Write(c.out.b); err != nil {
		return c.handshakeErr(ctx, err)
	}
	c.out.b = c.out.b[:0]
	fh, err := c.rfr.ReadFrameHeader()
	if err != nil {
		return c.handshakeErr(ctx, err)
	}
	if fh.Type != http2.FrameSettings || fh.Flags.Has(http2.FlagSettingsAck) {
		return fmt.Errorf("the server's first frame is %v, not SETTINGS", fh)
	}
	f, err := c.rfr.ReadFrameForHeader(fh)
	if err != nil {
		return c.handshakeErr(ctx, err)
	}
	c.mu.Lock()
	err = c.applySettingsLocked(f.(*http2.SettingsFrame))
	c.mu.Unlock()
	if err != nil {
		return err
	}
	// The ACK goes out with the first flush.
	c.out.b = c.out.b[:0]
	_ = c.wfr.WriteSettingsAck()
	c.flushQueued = true
	c.flushCh <- struct{}{}
	if ctx.Err() != nil || !stop() {
		return ctx.Err()
	}
	return c.nc.SetDeadline(time.Time{})
}

func (c *ClientConn) handshakeErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, http2.ErrFrameTooLarge) {
		return fmt.Errorf("the server does not speak HTTP/2: %w", err)
	}
	if ce, ok := err.(http2.ConnectionError); ok {
		return &ProtocolError{Code: http2.ErrCode(ce), Reason: clDetail(c.rfr, "bad first frame")}
	}
	return err
}

func clDetail(fr *http2.Framer, def string) string {
	if d := fr.ErrorDetail(); d != nil {
		return d.Error()
	}
	return def
}

// Do sends req and reads the answer into resp. It returns an error when no
// complete response came: ctx ended (the stream is reset with CANCEL and
// ctx.Err() returned), the server reset the stream or went away, the
// response was malformed or too large, or the connection failed. A call
// waits for a free stream when the server's SETTINGS_MAX_CONCURRENT_STREAMS
// are in use. Do keeps neither req nor resp after it returns.
func (c *ClientConn) Do(ctx context.Context, req *ClientRequest, resp *ClientResponse) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	scheme, authority := req.Scheme, req.Authority
	if scheme == "" {
		scheme = c.scheme
	}
	if authority == "" {
		authority = c.authority
	}
	if err := checkClientRequest(method, scheme, authority, req); err != nil {
		return err
	}
	resp.Status, resp.Location, resp.ContentType, resp.Body = 0, "", "", resp.Body[:0]
	st := clStreamPool.Get().(*clStream)
	st.err, st.body, st.endSent, st.resp, st.head = nil, req.Body, false, resp, method == "HEAD"
	st.gotHeaders, st.contentLength, st.recvUnacked = false, -1, 0

	c.mu.Lock()
	for {
		if err := c.refuseLocked(); err != nil {
			c.mu.Unlock()
			putClStream(st)
			return err
		}
		if uint32(c.active) < c.maxStreams {
			break
		}
		wake := c.wakeLocked()
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			putClStream(st)
			return ctx.Err()
		}
		c.mu.Lock()
	}
	if c.peerMaxHeaders > 0 {
		if n := clHeaderListSize(method, scheme, authority, req); n > uint64(c.peerMaxHeaders) {
			c.mu.Unlock()
			putClStream(st)
			return fmt.Errorf("%w: header list of %d bytes, over the server's limit of %d", ErrBadRequest, n, c.peerMaxHeaders)
		}
	}
	id := c.nextID
	c.nextID += 2
	st.id, st.sendWindow, st.recvWindow = id, c.peerWindow, clStreamWindow
	c.streams[id] = st
	c.active++
	c.writeHeadersLocked(st, method, scheme, authority, req)
	var wake chan struct{}
	if len(st.body) > 0 {
		c.sendDataLocked(st)
		if len(st.body) > 0 {
			wake = c.wakeLocked()
		}
	}
	c.queueFlushLocked()
	c.mu.Unlock()

	// The rest of the body, as the server's windows open.
	for wake != nil {
		select {
		case <-wake:
			wake = nil
			c.mu.Lock()
			if c.streams[id] == st {
				c.sendDataLocked(st)
				c.queueFlushLocked()
				if len(st.body) > 0 {
					wake = c.wakeLocked()
				}
			}
			c.mu.Unlock()
		case <-st.done:
			return finishClStream(st)
		case <-ctx.Done():
			return c.cancel(st, ctx.Err())
		}
	}
	select {
	case <-st.done:
		return finishClStream(st)
	case <-ctx.Done():
		return c.cancel(st, ctx.Err())
	}
}

// cancel ends a call whose ctx ended: its stream is reset, unless it
// completed meanwhile.
func (c *ClientConn) cancel(st *clStream, err error) error {
	c.mu.Lock()
	if c.streams[st.id] == st {
		c.removeLocked(st)
		if c.err == nil {
			_ = c.wfr.WriteRSTStream(st.id, http2.ErrCodeCancel)
			c.queueFlushLocked()
		}
		c.closeIfDoneLocked()
		c.mu.Unlock()
		putClStream(st)
		return err
	}
	c.mu.Unlock()
	<-st.done
	return finishClStream(st)
}

func finishClStream(st *clStream) error {
	err := st.err
	putClStream(st)
	return err
}

func putClStream(st *clStream) {
	st.resp, st.body, st.err = nil, nil, nil
	clStreamPool.Put(st)
}

// Err reports why the connection takes no new calls (Close, GOAWAY, a
// failure, stream ids used up); nil while it takes them.
func (c *ClientConn) Err() error {
	if !c.refusing.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refuseLocked()
}

// Close sends GOAWAY and closes the connection; calls in flight fail with
// ErrClientClosed. It waits for the connection's goroutines.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	if c.err == nil {
		_ = c.wfr.WriteGoAway(0, http2.ErrCodeNo, nil)
		c.failLocked(ErrClientClosed)
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

func (c *ClientConn) refuseLocked() error {
	switch {
	case c.err != nil:
		return c.err
	case c.goAway != nil:
		e := *c.goAway
		e.StreamID = 0
		return &e
	case c.nextID > clMaxStreamID:
		return ErrStreamIDsExhausted
	}
	return nil
}

func (c *ClientConn) wakeLocked() chan struct{} {
	if c.wake == nil {
		c.wake = make(chan struct{})
	}
	return c.wake
}

func (c *ClientConn) broadcastLocked() {
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
}

func (c *ClientConn) queueFlushLocked() {
	if !c.flushQueued {
		c.flushQueued = true
		select {
		case c.flushCh <- struct{}{}:
		default:
		}
	}
}

// writeHeadersLocked encodes the request's header block and frames it:
// HEADERS, and CONTINUATION frames when the block is larger than the
// server's frame size. Values that change from request to request (the
// path, content-length) are never-indexed literals: indexing them would
// only churn the HPACK dynamic table.
func (c *ClientConn) writeHeadersLocked(st *clStream, method, scheme, authority string, req *ClientRequest) {
	c.encBuf.Reset()
	e := c.enc
	_ = e.WriteField(hpack.HeaderField{Name: ":method", Value: method})
	_ = e.WriteField(hpack.HeaderField{Name: ":scheme", Value: scheme})
	_ = e.WriteField(hpack.HeaderField{Name: ":authority", Value: authority})
	_ = e.WriteField(hpack.HeaderField{Name: ":path", Value: req.Path, Sensitive: true})
	if req.ContentType != "" {
		_ = e.WriteField(hpack.HeaderField{Name: "content-type", Value: req.ContentType})
	}
	if req.Accept != "" {
		_ = e.WriteField(hpack.HeaderField{Name: "accept", Value: req.Accept})
	}
	if len(req.Body) > 0 {
		_ = e.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(req.Body)), Sensitive: true})
	}
	blk := c.encBuf.Bytes()
	n := min(len(blk), int(c.peerMaxFrame))
	end := len(st.body) == 0
	_ = c.wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: st.id, BlockFragment: blk[:n], EndStream: end, EndHeaders: n == len(blk)})
	for blk = blk[n:]; len(blk) > 0; blk = blk[n:] {
		n = min(len(blk), int(c.peerMaxFrame))
		_ = c.wfr.WriteContinuation(st.id, n == len(blk), blk[:n])
	}
	st.endSent = end
}

// sendDataLocked frames as much of the body as the windows allow.
func (c *ClientConn) sendDataLocked(st *clStream) {
	if len(st.body) > 0 {
		st.body = writeData(c.wfr, st.id, st.body, int(c.peerMaxFrame), &c.sendWindow, &st.sendWindow)
		st.endSent = len(st.body) == 0
	}
}

// removeLocked takes st out of the connection; its call owns it again.
func (c *ClientConn) removeLocked(st *clStream) {
	delete(c.streams, st.id)
	c.active--
	c.broadcastLocked()
}

// completeLocked completes st's call with err. A stream whose request the
// client is still sending is reset (CANCEL), unless it was reset already.
func (c *ClientConn) completeLocked(st *clStream, err error, alreadyReset bool) {
	c.removeLocked(st)
	if !st.endSent && !alreadyReset && c.err == nil {
		_ = c.wfr.WriteRSTStream(st.id, http2.ErrCodeCancel)
		c.queueFlushLocked()
	}
	st.err = err
	st.done <- struct{}{}
	c.closeIfDoneLocked()
}

// resetLocked completes st's call with err and resets its stream with code.
func (c *ClientConn) resetLocked(st *clStream, code http2.ErrCode, err error) {
	if c.err == nil {
		_ = c.wfr.WriteRSTStream(st.id, code)
		c.queueFlushLocked()
	}
	c.completeLocked(st, err, true)
}

// closeIfDoneLocked closes a connection that takes no new calls (GOAWAY
// came, or stream ids ran out) once its last stream completed.
func (c *ClientConn) closeIfDoneLocked() {
	if c.active > 0 || c.err != nil {
		return
	}
	switch {
	case c.goAway != nil:
		e := *c.goAway
		e.StreamID = 0
		c.failLocked(&e)
	case c.nextID > clMaxStreamID:
		_ = c.wfr.WriteGoAway(0, http2.ErrCodeNo, nil)
		c.failLocked(ErrStreamIDsExhausted)
	default:
		return
	}
}

// failLocked ends the connection with err: every call in flight fails with
// it, and the writer writes what is pending (a GOAWAY) and closes.
func (c *ClientConn) failLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	c.refusing.Store(true)
	for _, st := range c.streams {
		delete(c.streams, st.id)
		st.err = err
		st.done <- struct{}{}
	}
	c.active = 0
	c.broadcastLocked()
	// A writer stuck on a peer that does not read gives up soon.
	_ = c.nc.SetWriteDeadline(time.Now().Add(clFinalWrite))
	select {
	case c.flushCh <- struct{}{}:
	default:
	}
}

func (c *ClientConn) fail(err error) {
	c.mu.Lock()
	c.failLocked(err)
	c.mu.Unlock()
}

// writeLoop writes the pending frames, one write per batch, until the
// connection fails; then it writes what is left and closes it.
func (c *ClientConn) writeLoop() {
	defer c.wg.Done()
	defer c.nc.Close()
	var spare []byte
	for range c.flushCh {
		// Let the callers that are ready to run queue their frames first:
		// one write for all of them (a tenth of the writes under load).
		runtime.Gosched()
		c.mu.Lock()
		buf := c.out.swap(spare)
		c.flushQueued = false
		dead := c.err != nil
		c.mu.Unlock()
		if len(buf) > 0 {
			if _, err := c.nc.Write(buf); err != nil && !dead {
				c.fail(fmt.Errorf("h2: connection lost: %w", err))
				return
			}
		}
		if dead {
			return
		}
		spare = reusable(buf)
	}
}

// readLoop reads frames until the connection fails.
func (c *ClientConn) readLoop() {
	defer c.wg.Done()
	for {
		err := c.readFrame()
		if err == nil {
			continue
		}
		c.mu.Lock()
		var pe *ProtocolError
		if errors.As(err, &pe) && c.err == nil {
			_ = c.wfr.WriteGoAway(0, pe.Code, []byte(pe.Reason))
		}
		c.failLocked(err)
		c.mu.Unlock()
		// The writer closes the connection; the next read fails if the
		// server has not closed it yet. Nothing read matters any more.
		return
	}
}

func clProtoErr(code http2.ErrCode, format string, args ...any) error {
	return &ProtocolError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// readErr turns a Framer's error into the connection's terminal error.
func (c *ClientConn) readErr(err error) error {
	if c.nr.err != nil {
		if c.nr.err == io.EOF {
			return fmt.Errorf("h2: connection lost: server closed it: %w", io.EOF)
		}
		return fmt.Errorf("h2: connection lost: %w", c.nr.err)
	}
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &ce):
		return clProtoErr(http2.ErrCode(ce), "%s", clDetail(c.rfr, "bad frame"))
	case errors.Is(err, http2.ErrFrameTooLarge):
		return clProtoErr(http2.ErrCodeFrameSize, "frame larger than 16384 bytes")
	}
	return clProtoErr(http2.ErrCodeProtocol, "%v", err)
}

// readFrame reads and handles one frame. It returns the connection's
// terminal error, or nil.
func (c *ClientConn) readFrame() error {
	fh, err := c.rfr.ReadFrameHeader()
	if err != nil {
		return c.readErr(err)
	}
	f, err := c.rfr.ReadFrameForHeader(fh)
	if err != nil {
		var se http2.StreamError
		if errors.As(err, &se) && fh.Type != http2.FrameHeaders && fh.Type != http2.FrameContinuation {
			// A stream error (a WINDOW_UPDATE of 0): reset that stream.
			c.mu.Lock()
			if st := c.streams[se.StreamID]; st != nil {
				c.resetLocked(st, se.Code, fmt.Errorf("%w: stream %d: %v", ErrMalformedResponse, se.StreamID, se))
			}
			c.mu.Unlock()
			return nil
		}
		// A HEADERS frame not decoded would leave the HPACK state out of
		// step: a connection error.
		return c.readErr(err)
	}
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.HeadersFrame:
		c.block.start(f.StreamID, f.StreamEnded())
		if _, err := c.dec.Write(f.HeaderBlockFragment()); err != nil {
			return c.hpackErr(err)
		}
		if f.HeadersEnded() {
			return c.endHeaderBlock()
		}
	case *http2.ContinuationFrame:
		if _, err := c.dec.Write(f.HeaderBlockFragment()); err != nil {
			return c.hpackErr(err)
		}
		if f.HeadersEnded() {
			return c.endHeaderBlock()
		}
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if err := c.applySettingsLocked(f); err != nil {
			return err
		}
		if c.err == nil {
			_ = c.wfr.WriteSettingsAck()
			c.queueFlushLocked()
		}
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		c.mu.Lock()
		defer c.mu.Unlock()
		if err := c.checkServerStreamLocked(f.StreamID, "RST_STREAM"); err != nil {
			return err
		}
		if st := c.streams[f.StreamID]; st != nil {
			c.completeLocked(st, &StreamResetError{StreamID: f.StreamID, Code: f.ErrCode}, true)
		}
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		c.mu.Lock()
		if c.err == nil {
			_ = c.wfr.WritePing(true, f.Data)
			c.queueFlushLocked()
		}
		c.mu.Unlock()
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		return clProtoErr(http2.ErrCodeProtocol, "PUSH_PROMISE on stream %d with push disabled", f.StreamID)
	}
	// PRIORITY, PRIORITY_UPDATE and unknown frames are ignored.
	return nil
}

// hpackErr is the connection error of a header block the decoder could not
// decode: its dynamic table is out of step with the server's from there.
func (c *ClientConn) hpackErr(err error) error {
	if errors.Is(err, hpack.ErrStringLength) {
		return clProtoErr(http2.ErrCodeCompression, "HPACK: a header field over %d bytes", c.maxHeaders)
	}
	return clProtoErr(http2.ErrCodeCompression, "HPACK: %v", err)
}

// checkServerStreamLocked rejects a frame on a stream the client never
// opened: the server cannot open streams (push is disabled).
func (c *ClientConn) checkServerStreamLocked(id uint32, frame string) error {
	if id&1 == 0 || id >= c.nextID {
		return clProtoErr(http2.ErrCodeProtocol, "%s on stream %d, which the client did not open", frame, id)
	}
	return nil
}

func (c *ClientConn) applySettingsLocked(f *http2.SettingsFrame) error {
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return clProtoErr(http2.ErrCodeProtocol, "invalid setting %v", s)
		}
		switch s.ID {
		case http2.SettingHeaderTableSize:
			c.enc.SetMaxDynamicTableSizeLimit(s.Val)
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams = s.Val
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.peerWindow
			for _, st := range c.streams {
				st.sendWindow += delta
				if st.sendWindow > clMaxWindow {
					return clProtoErr(http2.ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE %d overflows stream %d's window", s.Val, st.id)
				}
			}
			c.peerWindow = int64(s.Val)
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		case http2.SettingMaxHeaderListSize:
			c.peerMaxHeaders = s.Val
		}
		return nil
	})
	c.broadcastLocked()
	return err
}

func (c *ClientConn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		if c.sendWindow+inc > clMaxWindow {
			return clProtoErr(http2.ErrCodeFlowControl, "WINDOW_UPDATE overflows the connection window")
		}
		c.sendWindow += inc
		c.broadcastLocked()
		return nil
	}
	if err := c.checkServerStreamLocked(f.StreamID, "WINDOW_UPDATE"); err != nil {
		return err
	}
	st := c.streams[f.StreamID]
	if st == nil {
		return nil
	}
	if st.sendWindow+inc > clMaxWindow {
		c.resetLocked(st, http2.ErrCodeFlowControl,
			fmt.Errorf("%w: stream %d: WINDOW_UPDATE overflows the window", ErrMalformedResponse, st.id))
		return nil
	}
	st.sendWindow += inc
	c.broadcastLocked()
	return nil
}

func (c *ClientConn) onGoAway(f *http2.GoAwayFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goAway != nil && c.goAway.LastStreamID < f.LastStreamID {
		// A later GOAWAY may only lower the last stream id.
		return
	}
	c.goAway = &GoAwayError{LastStreamID: f.LastStreamID, Code: f.ErrCode,
		Debug: strings.ToValidUTF8(string(f.DebugData()), "?")}
	c.refusing.Store(true)
	for id, st := range c.streams {
		if id > f.LastStreamID {
			e := *c.goAway
			e.StreamID = id
			c.completeLocked(st, &e, true)
		}
	}
	c.broadcastLocked()
	c.closeIfDoneLocked()
}

func (c *ClientConn) onData(f *http2.DataFrame) error {
	id, n := f.StreamID, int64(f.Length)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkServerStreamLocked(id, "DATA"); err != nil {
		return err
	}
	// The connection window counts every DATA frame, padding included,
	// also on streams that are gone.
	c.recvWindow -= n
	if c.recvWindow < 0 {
		return clProtoErr(http2.ErrCodeFlowControl, "DATA beyond the connection window")
	}
	c.recvUnacked += n
	if c.recvUnacked >= clConnWindow/2 && c.err == nil {
		_ = c.wfr.WriteWindowUpdate(0, uint32(c.recvUnacked))
		c.recvWindow += c.recvUnacked
		c.recvUnacked = 0
		c.queueFlushLocked()
	}
	st := c.streams[id]
	if st == nil {
		return nil
	}
	st.recvWindow -= n
	if st.recvWindow < 0 {
		c.resetLocked(st, http2.ErrCodeFlowControl,
			fmt.Errorf("%w: stream %d: DATA beyond the stream window", ErrMalformedResponse, id))
		return nil
	}
	if !st.gotHeaders {
		c.resetLocked(st, http2.ErrCodeProtocol, fmt.Errorf("%w: stream %d: DATA before the response headers", ErrMalformedResponse, id))
		return nil
	}
	data, resp := f.Data(), st.resp
	if len(resp.Body)+len(data) > c.maxBody {
		c.resetLocked(st, http2.ErrCodeCancel, fmt.Errorf("%w: body over %d bytes", ErrResponseTooLarge, c.maxBody))
		return nil
	}
	if st.contentLength >= 0 && int64(len(resp.Body)+len(data)) > st.contentLength {
		c.resetLocked(st, http2.ErrCodeProtocol,
			fmt.Errorf("%w: stream %d: body longer than its content-length %d", ErrMalformedResponse, id, st.contentLength))
		return nil
	}
	resp.Body = append(resp.Body, data...)
	if f.StreamEnded() {
		c.endStreamLocked(st)
		return nil
	}
	st.recvUnacked += n
	if st.recvUnacked >= clStreamWindow/2 && c.err == nil {
		_ = c.wfr.WriteWindowUpdate(id, uint32(st.recvUnacked))
		st.recvWindow += st.recvUnacked
		st.recvUnacked = 0
		c.queueFlushLocked()
	}
	return nil
}

// endStreamLocked completes a stream whose response ended.
func (c *ClientConn) endStreamLocked(st *clStream) {
	resp := st.resp
	if st.contentLength >= 0 && int64(len(resp.Body)) != st.contentLength &&
		!st.head && resp.Status != 204 && resp.Status != 304 {
		c.resetLocked(st, http2.ErrCodeProtocol, fmt.Errorf("%w: stream %d: body of %d bytes, content-length %d",
			ErrMalformedResponse, st.id, len(resp.Body), st.contentLength))
		return
	}
	c.completeLocked(st, nil, false)
}

// endHeaderBlock hands a decoded header block to its stream.
func (c *ClientConn) endHeaderBlock() error {
	if err := c.dec.Close(); err != nil {
		return c.hpackErr(err)
	}
	b := &c.block
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkServerStreamLocked(b.stream, "HEADERS"); err != nil {
		return err
	}
	st := c.streams[b.stream]
	if st == nil {
		return nil // reset or canceled meanwhile
	}
	bad := func(format string, args ...any) {
		c.resetLocked(st, http2.ErrCodeProtocol, fmt.Errorf("%w: stream %d: %s", ErrMalformedResponse, st.id, fmt.Sprintf(format, args...)))
	}
	switch {
	case b.tooLarge:
		c.resetLocked(st, http2.ErrCodeCancel, fmt.Errorf("%w: header list over %d bytes", ErrResponseTooLarge, c.maxHeaders))
	case b.malformed != "":
		bad("%s", b.malformed)
	case st.gotHeaders: // trailers
		if !b.endStream {
			bad("a second header block without END_STREAM")
		} else if b.status != 0 {
			bad("pseudo-header in trailers")
		} else {
			c.endStreamLocked(st)
		}
	case b.status == 0:
		bad("no :status")
	case b.status < 200: // informational: the final answer follows
		if b.status == 101 {
			bad(":status 101 in HTTP/2")
		} else if b.endStream {
			bad(":status %d with END_STREAM", b.status)
		}
	default:
		resp := st.resp
		st.gotHeaders = true
		resp.Status, resp.Location, resp.ContentType = b.status, b.location, b.contentType
		st.contentLength = b.contentLength
		if cl := b.contentLength; cl > int64(c.maxBody) && !st.head {
			c.resetLocked(st, http2.ErrCodeCancel, fmt.Errorf("%w: content-length %d over %d bytes", ErrResponseTooLarge, cl, c.maxBody))
			return nil
		} else if cl > 0 && !st.head {
			resp.Body = slices.Grow(resp.Body, int(cl))
		}
		if b.endStream {
			c.endStreamLocked(st)
		}
	}
	return nil
}

// clHeaderBlock collects what the client needs of a response header block
// as the HPACK decoder emits its fields.
type clHeaderBlock struct {
	max           int
	stream        uint32
	endStream     bool
	size          int
	tooLarge      bool
	sawRegular    bool
	malformed     string
	status        int
	location      string
	contentType   string
	contentLength int64
}

func (b *clHeaderBlock) start(stream uint32, endStream bool) {
	*b = clHeaderBlock{max: b.max, stream: stream, endStream: endStream, contentLength: -1}
}

// field is the HPACK decoder's emit function.
func (b *clHeaderBlock) field(f hpack.HeaderField) {
	b.size += int(f.Size())
	if b.size > b.max {
		b.tooLarge = true
	}
	if b.tooLarge || b.malformed != "" {
		return
	}
	if f.IsPseudo() {
		switch {
		case b.sawRegular:
			b.malformed = "pseudo-header after a regular field"
		case f.Name != ":status":
			b.malformed = fmt.Sprintf("pseudo-header %q in a response", f.Name)
		case b.status != 0:
			b.malformed = "two :status"
		default:
			if v, err := strconv.Atoi(f.Value); err == nil && len(f.Value) == 3 && v >= 100 {
				b.status = v
			} else {
				b.malformed = fmt.Sprintf(":status %q", f.Value)
			}
		}
		return
	}
	b.sawRegular = true
	switch f.Name {
	case "content-type":
		b.contentType = f.Value
	case "location":
		b.location = f.Value
	case "content-length":
		v, ok := contentLength(f.Value, b.contentLength)
		if !ok {
			b.malformed = fmt.Sprintf("content-length %q", f.Value)
			return
		}
		b.contentLength = v
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		b.malformed = fmt.Sprintf("connection-specific field %q", f.Name)
	default:
		for i := 0; i < len(f.Name); i++ {
			if 'A' <= f.Name[i] && f.Name[i] <= 'Z' {
				b.malformed = fmt.Sprintf("upper-case field name %q", f.Name)
				return
			}
		}
	}
}

// checkClientRequest rejects what cannot be sent: an empty or relative
// path, and control characters, which would make the request malformed.
func checkClientRequest(method, scheme, authority string, req *ClientRequest) error {
	switch {
	case req.Path == "" || (req.Path[0] != '/' && !(req.Path == "*" && method == "OPTIONS")):
		return fmt.Errorf("%w: path %q does not start with /", ErrBadRequest, req.Path)
	case !clToken(method):
		return fmt.Errorf("%w: method %q", ErrBadRequest, method)
	case !clToken(scheme):
		return fmt.Errorf("%w: scheme %q", ErrBadRequest, scheme)
	case !clVisible(authority, false) || authority == "":
		return fmt.Errorf("%w: authority %q", ErrBadRequest, authority)
	case !clVisible(req.Path, false):
		return fmt.Errorf("%w: path %q", ErrBadRequest, req.Path)
	case !clVisible(req.ContentType, true):
		return fmt.Errorf("%w: content-type %q", ErrBadRequest, req.ContentType)
	case !clVisible(req.Accept, true):
		return fmt.Errorf("%w: accept %q", ErrBadRequest, req.Accept)
	}
	return nil
}

// clVisible reports whether s holds no control characters (and no spaces
// unless space).
func clVisible(s string, space bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f || (c == ' ' && !space) {
			if c == '\t' && space {
				continue
			}
			return false
		}
	}
	return true
}

// clToken reports whether s is a non-empty HTTP token (RFC 9110 §5.6.2).
func clToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// clHeaderListSize is the size of the request's header list as RFC 9113
// §6.5.2 counts it.
func clHeaderListSize(method, scheme, authority string, req *ClientRequest) uint64 {
	n := uint64(len(":method")+len(method)+len(":scheme")+len(scheme)+len(":authority")+len(authority)+
		len(":path")+len(req.Path)) + 4*32
	if req.ContentType != "" {
		n += uint64(len("content-type")+len(req.ContentType)) + 32
	}
	if req.Accept != "" {
		n += uint64(len("accept")+len(req.Accept)) + 32
	}
	if len(req.Body) > 0 {
		digits := 1
		for v := len(req.Body); v >= 10; v /= 10 {
			digits++
		}
		n += uint64(len("content-length")+digits) + 32
	}
	return n
}
