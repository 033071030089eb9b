package h2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// A server connection. One reader goroutine (serve) decodes frames and
// starts a handler goroutine per complete request; one writer goroutine
// (writeLoop) writes what was encoded. Every frame the server sends is
// encoded under mu into out, in the order it must go out (HPACK's dynamic
// table depends on it): the reader encodes its control frames, each handler
// its own response, and the writer swaps out for an empty buffer and writes
// it with one syscall while the next batch accumulates.
type conn struct {
	s      *Server
	nc     net.Conn
	br     *bufio.Reader
	rfr    *http2.Framer // reader goroutine only
	isTLS  bool
	remote string
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // cap 1: out has bytes, or the connection should close

	// Reader goroutine only.
	maxID         uint32 // highest stream id the client opened
	recvConn      int64  // connection receive window left
	recvUnacked   int64  // received bytes not yet given back
	settingsSeen  bool
	maxBody       int
	maxStreams    int
	writeDeadline time.Duration

	mu        sync.Mutex
	streams   map[uint32]*stream // open: being read, handled, or written
	out       frameBuf           // encoded frames waiting for the writer
	wfr       *http2.Framer      // writes into out; under mu
	enc       *hpack.Encoder
	hbuf      bytes.Buffer
	sendConn  int64 // connection send window
	peerInit  int64 // the peer's SETTINGS_INITIAL_WINDOW_SIZE
	peerFrame int   // the peer's SETTINGS_MAX_FRAME_SIZE
	blocked   []*stream
	goingAway bool
	closing   bool // write what is in out, then close
	closed    bool
	lastIdle  time.Time // when streams became empty
	idleTimer *time.Timer
}

// stream is one request and its response.
type stream struct {
	id        uint32
	req       Request
	res       Response
	reading   bool // the request's body is still being read (not handed over)
	reqDone   bool // the client ended its side (END_STREAM)
	reset     bool // reset by either side: nothing more is sent
	clen      int64
	recvWin   int64
	recvUnack int64
	sendWin   int64
	pending   []byte // response body not yet encoded (flow control)
}

var streamPool = sync.Pool{New: func() any { return &stream{} }}

func newStream(id uint32, init int64) *stream {
	st := streamPool.Get().(*stream)
	body, resBody := st.req.Body[:0], st.res.Body[:0]
	hdr := st.res.Header[:0]
	*st = stream{id: id, reading: true, clen: -1, recvWin: streamWindow, sendWin: init}
	st.req.Body, st.res.Body, st.res.Header = body, resBody, hdr
	return st
}

func freeStream(st *stream) {
	if cap(st.req.Body) > 256<<10 || cap(st.res.Body) > 256<<10 {
		return
	}
	st.req.Fields = nil
	st.pending = nil
	streamPool.Put(st)
}

func newConn(s *Server, nc net.Conn, br *bufio.Reader, isTLS bool) *conn {
	c := &conn{
		s: s, nc: nc, br: br, isTLS: isTLS,
		remote:        nc.RemoteAddr().String(),
		wake:          make(chan struct{}, 1),
		recvConn:      connWindow,
		maxBody:       s.maxBody(),
		maxStreams:    int(s.maxStreams()),
		writeDeadline: s.writeTimeout(),
		streams:       map[uint32]*stream{},
		sendConn:      65535,
		peerInit:      65535,
		peerFrame:     16384,
		lastIdle:      time.Now(),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.rfr = http2.NewFramer(nil, br)
	c.rfr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.rfr.MaxHeaderListSize = s.maxHeaders()
	c.rfr.SetMaxReadFrameSize(16384) // SETTINGS_MAX_FRAME_SIZE: the default, not announced
	c.rfr.SetReuseFrames()
	c.wfr = http2.NewFramer(&c.out, nil)
	c.enc = hpack.NewEncoder(&c.hbuf)
	return c
}

// signal wakes the writer.
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// serve runs the connection until it ends.
func (c *conn) serve() {
	wdone := make(chan struct{})
	go func() { c.writeLoop(); close(wdone) }()
	c.mu.Lock()
	_ = c.wfr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: uint32(c.maxStreams)},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.s.maxHeaders()},
	)
	_ = c.wfr.WriteWindowUpdate(0, connWindow-65535)
	c.signal()
	if c.s.IdleTimeout > 0 {
		c.idleTimer = time.AfterFunc(c.s.IdleTimeout, c.idleCheck)
	}
	c.mu.Unlock()
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.handshakeTimeout()))
	err := c.readLoop()
	var ec errConn
	if errors.As(err, &ec) {
		// The writer sends the GOAWAY, then closes.
		select {
		case <-wdone:
		case <-time.After(time.Second):
		}
	}
	c.close(err)
	<-wdone
	c.nc.Close()
}

// readLoop reads and handles frames until the connection fails or ends.
func (c *conn) readLoop() error {
	for {
		f, err := c.rfr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.mu.Lock()
				if se.StreamID > c.maxID && se.StreamID%2 == 1 {
					c.maxID = se.StreamID // the stream's headers were read: it is used
				}
				c.resetStream(se.StreamID, se.Code)
				c.mu.Unlock()
				continue
			}
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				return c.connError(http2.ErrCode(ce), "frame: "+err.Error())
			}
			if errors.Is(err, http2.ErrFrameTooLarge) {
				return c.connError(http2.ErrCodeFrameSize, "frame too large")
			}
			return err
		}
		if !c.settingsSeen {
			sf, ok := f.(*http2.SettingsFrame)
			if !ok || sf.IsAck() {
				return c.connError(http2.ErrCodeProtocol, "the client's first frame is not SETTINGS")
			}
			c.settingsSeen = true
			_ = c.nc.SetReadDeadline(time.Time{})
		}
		if err := c.handle(f); err != nil {
			return err
		}
	}
}

// errConn is a connection error the reader has already answered with a
// GOAWAY.
type errConn struct {
	code   http2.ErrCode
	reason string
}

func (e errConn) Error() string { return fmt.Sprintf("h2: connection error %v: %s", e.code, e.reason) }

// connError sends GOAWAY with code and ends the connection.
func (c *conn) connError(code http2.ErrCode, reason string) error {
	c.mu.Lock()
	if !c.closed {
		c.s.Metrics.goAwaySent(code)
		_ = c.wfr.WriteGoAway(c.maxID, code, []byte(reason))
		c.goingAway, c.closing = true, true
		c.signal()
	}
	c.mu.Unlock()
	return errConn{code, reason}
}

func (c *conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			c.mu.Lock()
			_ = c.wfr.WritePing(true, f.Data)
			c.signal()
			c.mu.Unlock()
		}
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		c.mu.Lock()
		if f.StreamID > c.maxID {
			c.mu.Unlock()
			return c.connError(http2.ErrCodeProtocol, "RST_STREAM on an idle stream")
		}
		if st := c.streams[f.StreamID]; st != nil {
			st.reset = true
			c.endStream(st, false)
		}
		c.mu.Unlock()
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			c.mu.Lock()
			c.resetStream(f.StreamID, http2.ErrCodeProtocol)
			c.mu.Unlock()
		}
	case *http2.GoAwayFrame:
		// The client opens no more streams; those in flight finish.
	case *http2.PushPromiseFrame:
		return c.connError(http2.ErrCodeProtocol, "PUSH_PROMISE from a client")
	}
	return nil // unknown frame types are ignored (RFC 9113 §4.1)
}

func (c *conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	var bad error
	_ = f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil && bad == nil {
			bad = err
		}
		return nil
	})
	if bad != nil {
		var ce http2.ConnectionError
		if errors.As(bad, &ce) {
			return c.connError(http2.ErrCode(ce), bad.Error())
		}
		return c.connError(http2.ErrCodeProtocol, bad.Error())
	}
	c.mu.Lock()
	var overflow bool
	_ = f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.peerInit
			c.peerInit = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sendWin > maxWindow {
					overflow = true
				}
			}
		case http2.SettingMaxFrameSize:
			c.peerFrame = int(s.Val)
		case http2.SettingHeaderTableSize:
			c.enc.SetMaxDynamicTableSizeLimit(s.Val)
		}
		return nil
	})
	if overflow {
		c.mu.Unlock()
		return c.connError(http2.ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window")
	}
	_ = c.wfr.WriteSettingsAck()
	c.sendBlocked()
	c.signal()
	c.mu.Unlock()
	return nil
}

func (c *conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	if f.StreamID == 0 {
		c.sendConn += int64(f.Increment)
		if c.sendConn > maxWindow {
			c.mu.Unlock()
			return c.connError(http2.ErrCodeFlowControl, "connection window over 2^31-1")
		}
	} else if f.StreamID > c.maxID {
		c.mu.Unlock()
		return c.connError(http2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream")
	} else if st := c.streams[f.StreamID]; st != nil {
		st.sendWin += int64(f.Increment)
		if st.sendWin > maxWindow {
			c.resetStream(f.StreamID, http2.ErrCodeFlowControl)
		}
	}
	c.sendBlocked()
	c.signal()
	c.mu.Unlock()
	return nil
}

// contentLength parses a content-length field; prev is the value of an
// earlier one in the same message (-1: none), which it must repeat.
func contentLength(v string, prev int64) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (prev >= 0 && n != prev) {
		return 0, false
	}
	return n, true
}

// connection-specific fields a request must not carry (RFC 9113 §8.2.2).
var connSpecific = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true, "upgrade": true,
}

func (c *conn) onHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return c.connError(http2.ErrCodeProtocol, "a client stream id must be odd")
	}
	c.mu.Lock()
	if id <= c.maxID {
		st := c.streams[id]
		if st == nil {
			c.mu.Unlock()
			return c.connError(http2.ErrCodeStreamClosed, "HEADERS on a closed stream")
		}
		if !st.reading {
			if st.reqDone {
				c.resetStream(id, http2.ErrCodeStreamClosed) // half-closed (remote)
			}
			// else: the body of a request answered early (TooLarge) is
			// still arriving: its trailers are ignored.
			if f.StreamEnded() {
				st.reqDone = true
			}
			c.mu.Unlock()
			return nil
		}
		// Trailers: they end the request; their fields are dropped.
		defer c.mu.Unlock()
		if !f.StreamEnded() {
			c.resetStream(id, http2.ErrCodeProtocol)
			return nil
		}
		if len(f.PseudoFields()) > 0 {
			c.resetStream(id, http2.ErrCodeProtocol)
			return nil
		}
		c.endRequest(st)
		return nil
	}
	c.maxID = id
	if f.HasPriority() && f.Priority.StreamDep == id {
		c.resetStream(id, http2.ErrCodeProtocol)
		c.mu.Unlock()
		return nil
	}
	if c.goingAway {
		c.resetStream(id, http2.ErrCodeRefusedStream)
		c.mu.Unlock()
		return nil
	}
	if len(c.streams) >= c.maxStreams {
		c.resetStream(id, http2.ErrCodeRefusedStream)
		c.mu.Unlock()
		return nil
	}
	st := newStream(id, c.peerInit)
	st.req.TLS, st.req.RemoteAddr = c.isTLS, c.remote
	if c.idleTimer != nil && len(c.streams) == 0 {
		c.lastIdle = time.Time{}
	}
	c.streams[id] = st
	c.mu.Unlock()

	r := &st.req
	for _, hf := range f.PseudoFields() {
		switch hf.Name {
		case ":method":
			r.Method = hf.Value
		case ":scheme":
			r.Scheme = hf.Value
		case ":authority":
			r.Authority = hf.Value
		case ":path":
			r.Path = hf.Value
		default:
			return c.refuse(st, http2.ErrCodeProtocol)
		}
	}
	if r.Method == "" || r.Scheme == "" || r.Path == "" || r.Method == http.MethodConnect {
		return c.refuse(st, http2.ErrCodeProtocol)
	}
	r.Fields = f.RegularFields()
	for _, hf := range r.Fields {
		switch {
		case connSpecific[hf.Name]:
			return c.refuse(st, http2.ErrCodeProtocol)
		case hf.Name == "te" && hf.Value != "trailers":
			return c.refuse(st, http2.ErrCodeProtocol)
		case hf.Name == "content-length":
			n, ok := contentLength(hf.Value, st.clen)
			if !ok {
				return c.refuse(st, http2.ErrCodeProtocol)
			}
			st.clen = n
		case hf.Name == "host" && r.Authority == "":
			r.Authority = hf.Value
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.reset {
		return nil
	}
	if f.Truncated {
		// The header list is over MaxHeaderBytes: answer 431 at once.
		st.reading = false
		st.reqDone = f.StreamEnded()
		st.res.Status = http.StatusRequestHeaderFieldsTooLarge
		c.writeResponse(st)
		return nil
	}
	if f.StreamEnded() {
		c.endRequest(st)
	}
	return nil
}

// refuse resets a stream whose headers are malformed (a stream error).
func (c *conn) refuse(st *stream, code http2.ErrCode) error {
	c.mu.Lock()
	c.resetStream(st.id, code)
	c.mu.Unlock()
	return nil
}

// endRequest: the client ended the stream; check the length and hand the
// request over. Under mu.
func (c *conn) endRequest(st *stream) {
	st.reqDone = true
	if !st.reading {
		return // already handed over (TooLarge)
	}
	if st.clen >= 0 && int64(len(st.req.Body)) != st.clen && !st.req.TooLarge {
		c.resetStream(st.id, http2.ErrCodeProtocol)
		return
	}
	c.dispatch(st)
}

// dispatch hands a request to a handler goroutine (see workers). Under mu.
func (c *conn) dispatch(st *stream) {
	st.reading = false
	c.s.Metrics.request()
	c.s.handlers.Add(1)
	c.s.workers.run(job{c, st})
}

func (c *conn) run(st *stream) {
	defer c.s.handlers.Add(-1)
	defer func() {
		if p := recover(); p != nil {
			c.s.logger().Error("h2: handler panic", "path", st.req.Path, "panic", fmt.Sprint(p))
			st.res.Status, st.res.Header, st.res.Body = http.StatusInternalServerError, st.res.Header[:0], st.res.Body[:0]
			c.mu.Lock()
			c.writeResponse(st)
			c.mu.Unlock()
		}
	}()
	c.s.Handler.ServeH2(c.ctx, &st.req, &st.res)
	c.mu.Lock()
	c.writeResponse(st)
	c.mu.Unlock()
}

func (c *conn) onData(f *http2.DataFrame) error {
	id, n := f.StreamID, int64(f.Length)
	c.mu.Lock()
	if n > c.recvConn {
		c.mu.Unlock()
		return c.connError(http2.ErrCodeFlowControl, "DATA over the connection window")
	}
	if id > c.maxID {
		c.mu.Unlock()
		return c.connError(http2.ErrCodeProtocol, "DATA on an idle stream")
	}
	defer c.mu.Unlock()
	c.recvConn -= n
	// The data is consumed at once (copied, or discarded): give the window
	// back in chunks.
	c.recvUnacked += n
	if c.recvUnacked >= connWindow/4 {
		_ = c.wfr.WriteWindowUpdate(0, uint32(c.recvUnacked))
		c.recvConn += c.recvUnacked
		c.recvUnacked = 0
		c.signal()
	}
	st := c.streams[id]
	if st == nil || st.reqDone {
		c.resetStream(id, http2.ErrCodeStreamClosed)
		return nil
	}
	if n > st.recvWin {
		c.resetStream(id, http2.ErrCodeFlowControl)
		return nil
	}
	st.recvWin -= n
	if st.reading {
		data := f.Data()
		r := &st.req
		if len(r.Body)+len(data) > c.maxBody {
			r.Body = append(r.Body, data[:c.maxBody-len(r.Body)]...)
			r.TooLarge = true
			c.dispatch(st) // answered at once; the rest of the body is discarded
		} else {
			r.Body = append(r.Body, data...)
			if st.clen >= 0 && int64(len(r.Body)) > st.clen {
				c.resetStream(id, http2.ErrCodeProtocol)
				return nil
			}
			st.recvUnack += n
			if st.recvUnack >= streamWindow/4 && !f.StreamEnded() {
				_ = c.wfr.WriteWindowUpdate(id, uint32(st.recvUnack))
				st.recvWin += st.recvUnack
				st.recvUnack = 0
				c.signal()
			}
		}
	}
	if f.StreamEnded() {
		c.endRequest(st)
	}
	return nil
}

// resetStream sends RST_STREAM and forgets the stream. Under mu.
func (c *conn) resetStream(id uint32, code http2.ErrCode) {
	if c.closed {
		return
	}
	c.s.Metrics.rstSent(code)
	_ = c.wfr.WriteRSTStream(id, code)
	c.signal()
	if st := c.streams[id]; st != nil {
		st.reset = true
		c.endStream(st, false)
	}
}

// endStream forgets a stream. A stream still being read or handled is only
// removed from the table: its handler's answer is dropped (reset) and the
// handler goroutine frees it. Under mu.
func (c *conn) endStream(st *stream, written bool) {
	if c.streams[st.id] == st {
		delete(c.streams, st.id)
		if len(c.streams) == 0 {
			c.lastIdle = time.Now()
			if c.goingAway {
				c.signal() // the writer closes once out is written
			}
		}
	}
	if written || st.reading {
		freeStream(st)
	}
}

// writeResponse encodes the handler's response: HEADERS, then DATA as far
// as the flow-control windows allow (the rest waits in blocked). Under mu.
func (c *conn) writeResponse(st *stream) {
	if st.reset || c.closed || c.streams[st.id] != st {
		freeStream(st)
		return
	}
	res := &st.res
	body := res.Body
	if st.req.Method == http.MethodHead || res.Status == http.StatusNoContent || res.Status == http.StatusNotModified {
		body = nil
	}
	c.hbuf.Reset()
	_ = c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(res.Status)})
	for _, f := range res.Header {
		_ = c.enc.WriteField(hpack.HeaderField{Name: f.Name, Value: f.Value, Sensitive: f.Sensitive})
	}
	if res.Status != http.StatusNoContent && res.Status != http.StatusNotModified {
		_ = c.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(body)), Sensitive: true})
	}
	_ = c.enc.WriteField(hpack.HeaderField{Name: "date", Value: httpDate()})
	c.writeHeaderBlock(st.id, c.hbuf.Bytes(), len(body) == 0)
	if len(body) == 0 {
		c.finish(st)
	} else {
		st.pending = body
		if !c.sendData(st) {
			c.blocked = append(c.blocked, st)
		}
	}
	c.signal()
}

// writeHeaderBlock writes a HEADERS frame and as many CONTINUATION frames as
// the peer's frame size needs. Under mu.
func (c *conn) writeHeaderBlock(id uint32, block []byte, end bool) {
	first := block[:min(len(block), c.peerFrame)]
	rest := block[len(first):]
	_ = c.wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(rest) == 0})
	for len(rest) > 0 {
		chunk := rest[:min(len(rest), c.peerFrame)]
		rest = rest[len(chunk):]
		_ = c.wfr.WriteContinuation(id, len(rest) == 0, chunk)
	}
}

// sendData encodes as much of st.pending as the windows allow, and
// reports whether that was all of it: then the stream is finished and
// freed, and st must not be touched again. Under mu.
func (c *conn) sendData(st *stream) (done bool) {
	st.pending = writeData(c.wfr, st.id, st.pending, c.peerFrame, &c.sendConn, &st.sendWin)
	if len(st.pending) > 0 {
		return false
	}
	c.finish(st)
	return true
}

// writeData frames as much of data as the peer's frame size and the
// connection's and the stream's send windows allow, charges both windows,
// and returns the rest. The frame that ends data carries END_STREAM.
func writeData(fr *http2.Framer, id uint32, data []byte, maxFrame int, connWin, streamWin *int64) []byte {
	for len(data) > 0 {
		n := min(int64(len(data)), int64(maxFrame), *connWin, *streamWin)
		if n <= 0 {
			break
		}
		_ = fr.WriteData(id, n == int64(len(data)), data[:n])
		data = data[n:]
		*connWin -= n
		*streamWin -= n
	}
	return data
}

// finish: the response is encoded whole. Under mu.
func (c *conn) finish(st *stream) {
	if !st.reqDone {
		// The client is still sending a body we no longer read (RFC 9113
		// §8.1): tell it to stop.
		c.s.Metrics.rstSent(http2.ErrCodeNo)
		_ = c.wfr.WriteRSTStream(st.id, http2.ErrCodeNo)
	}
	st.pending = nil
	c.endStream(st, true)
}

// sendBlocked resumes responses waiting for the send windows. Under mu.
func (c *conn) sendBlocked() {
	kept := c.blocked[:0]
	for _, st := range c.blocked {
		if st.reset || c.streams[st.id] != st {
			freeStream(st)
			continue
		}
		if !c.sendData(st) {
			kept = append(kept, st)
		}
	}
	clear(c.blocked[len(kept):])
	c.blocked = kept
}

// goAway stops the connection gracefully: no new streams; it closes once
// the streams in flight are answered.
func (c *conn) goAway(code http2.ErrCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goingAway || c.closed {
		return
	}
	c.s.Metrics.goAwaySent(code)
	_ = c.wfr.WriteGoAway(c.maxID, code, nil)
	c.goingAway = true
	c.signal()
}

// idleCheck sends GOAWAY to a connection that has had no stream for
// IdleTimeout.
func (c *conn) idleCheck() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	idle := len(c.streams) == 0 && !c.lastIdle.IsZero() && time.Since(c.lastIdle) >= c.s.IdleTimeout
	if len(c.streams) == 0 && c.lastIdle.IsZero() {
		c.lastIdle = time.Now()
	}
	if !idle {
		c.idleTimer.Reset(c.s.IdleTimeout)
	}
	c.mu.Unlock()
	if idle {
		c.goAway(http2.ErrCodeNo)
	}
}

// writeLoop writes what was encoded, a batch per syscall.
func (c *conn) writeLoop() {
	var spare []byte
	for {
		<-c.wake
		// Let the handlers that are about to answer run first: their
		// frames then share this write (a syscall per response costs more
		// than the wait, at any load).
		runtime.Gosched()
		c.mu.Lock()
		buf := c.out.swap(spare)
		closeAfter := c.closing || c.closed || (c.goingAway && len(c.streams) == 0)
		c.mu.Unlock()
		if len(buf) > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.writeDeadline))
			if _, err := c.nc.Write(buf); err != nil {
				c.close(err)
				return
			}
			c.s.Metrics.wrote(len(buf))
		}
		spare = reusable(buf)
		c.mu.Lock()
		more := len(c.out.b) > 0
		c.mu.Unlock()
		if closeAfter && !more {
			c.close(io.EOF)
			return
		}
		if more {
			c.signal()
		}
	}
}

// close ends the connection: handlers still running have their answers
// dropped.
func (c *conn) close(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	for _, st := range c.streams {
		st.reset = true // a handler still running frees its stream; the rest go to the GC
	}
	clear(c.streams)
	c.blocked = nil
	c.mu.Unlock()
	c.cancel()
	c.signal()
	// Closing unblocks the reader; the writer has been signalled.
	c.nc.Close()
	var ec errConn
	if err != nil && !errors.Is(err, io.EOF) && !errors.As(err, &ec) && !errors.Is(err, net.ErrClosed) {
		c.s.logger().Debug("h2: connection ended", "remote", c.remote, "err", err)
	}
}

var statusTexts = func() map[int]string {
	m := map[int]string{}
	for code := 100; code < 600; code++ {
		m[code] = strconv.Itoa(code)
	}
	return m
}()

func statusText(code int) string {
	if s, ok := statusTexts[code]; ok {
		return s
	}
	return strconv.Itoa(code)
}

// httpDate is the Date field, formatted once per second.
var dateCache atomic.Pointer[cachedDate]

type cachedDate struct {
	sec int64
	s   string
}

func httpDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.s
	}
	d := &cachedDate{sec: now.Unix(), s: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.s
}
