package chf

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/tollgate-billing/tollgate/internal/h2"
	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// APIRoot is the path prefix of Nchf_ConvergedCharging v3 (TS 32.291 §6.1.1).
const APIRoot = "/nchf-convergedcharging/v3"

// MaxBody is the largest request body the CHF reads (the codec's limit);
// a larger one is answered 413.
const MaxBody = 64 << 10

// NewServer is the SBI server of the service: HTTP/2 (h2c with prior
// knowledge, or over TLS with ALPN h2 when tlsCfg is set) served by package
// h2, and HTTP/1.1 on the same port by net/http.
func (s *Service) NewServer(tlsCfg *tls.Config) *h2.Server {
	return &h2.Server{
		Handler:     s,
		TLSConfig:   tlsCfg,
		MaxBodySize: MaxBody,
		IdleTimeout: 5 * time.Minute,
		Logger:      s.cfg.Logger,
		Metrics:     h2.NewMetrics(s.cfg.Registerer, "sbi"),
		Fallback: &http.Server{
			Handler:           s.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       5 * time.Minute,
			ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		},
	}
}

// Handler serves the Nchf_ConvergedCharging routes over net/http (HTTP/1.1
// and tests); ServeH2 is the same service for package h2:
//
//	POST {apiRoot}/nchf-convergedcharging/v3/chargingdata                         create (201, Location)
//	POST {apiRoot}/nchf-convergedcharging/v3/chargingdata/{ChargingDataRef}/update  update (200)
//	POST {apiRoot}/nchf-convergedcharging/v3/chargingdata/{ChargingDataRef}/release release (204)
//
// Every error is a ProblemDetails (application/problem+json).
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	body, err := readBody(r.Body, (*bp)[:0])
	*bp = body[:0]
	req := h2.Request{Method: r.Method, Scheme: "http", Authority: r.Host, Path: r.URL.Path,
		Body: body, TooLarge: errors.Is(err, errTooLarge), TLS: r.TLS != nil, RemoteAddr: r.RemoteAddr}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Fields = []hpack.HeaderField{{Name: "content-type", Value: ct}}
	}
	if err != nil && !req.TooLarge {
		var res h2.Response
		s.answer(&req, &res, problemAnswer(nchf.Problem(nchf.CauseInvalidMsgFormat, "reading the body: "+err.Error())))
		writeResponse(w, &res)
		return
	}
	var res h2.Response
	s.ServeH2(r.Context(), &req, &res)
	writeResponse(w, &res)
}

func writeResponse(w http.ResponseWriter, res *h2.Response) {
	for _, f := range res.Header {
		w.Header().Set(f.Name, f.Value)
	}
	w.WriteHeader(res.Status)
	if len(res.Body) > 0 && res.Status != http.StatusNoContent {
		_, _ = w.Write(res.Body)
	}
}

// ServeH2 serves one Nchf request (see Handler for the routes).
func (s *Service) ServeH2(ctx context.Context, r *h2.Request, res *h2.Response) {
	start := time.Now()
	path, _, _ := strings.Cut(r.Path, "?")
	op, ref, ok := route(path)
	if !ok {
		p := nchf.Problem(nchf.CauseResourceURIStructureNotFound, "no such resource: "+path)
		s.answer(r, res, problemAnswer(p))
		return
	}
	if r.Method != http.MethodPost {
		res.Header = append(res.Header, h2.Field{Name: "allow", Value: http.MethodPost})
		p := nchf.ProblemDetails{Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
			Detail: r.Method + " is not allowed here; use POST"}
		s.answer(r, res, problemAnswer(p))
		return
	}
	if ct := r.Header("content-type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		p := nchf.ProblemDetails{Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "the body must be application/json, not " + ct}
		s.answer(r, res, problemAnswer(p))
		return
	}
	if r.TooLarge {
		p := nchf.ProblemDetails{Title: "Payload too large", Status: http.StatusRequestEntityTooLarge, Detail: errTooLarge.Error()}
		s.answer(r, res, problemAnswer(p))
		return
	}
	var req nchf.ChargingDataRequest
	if err := nchf.DecodeChargingDataRequest(r.Body, &req); err != nil {
		s.answer(r, res, problemAnswer(nchf.ProblemOf(err)))
		s.m.requests.WithLabelValues(op, "400").Inc()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var ans Answer
	switch op {
	case "create":
		if req.OneTimeEvent {
			op = "event"
		}
		ans = s.Create(ctx, &req)
	case "update":
		ans = s.Update(ctx, ref, &req)
	case "release":
		ans = s.Release(ctx, ref, &req)
	}
	s.answer(r, res, ans)
	s.m.requests.WithLabelValues(op, strconv.Itoa(ans.Status)).Inc()
	s.m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// route splits a path into the operation and the ChargingDataRef.
func route(path string) (op, ref string, ok bool) {
	rest, found := strings.CutPrefix(path, APIRoot+"/chargingdata")
	if !found {
		return "", "", false
	}
	if rest == "" || rest == "/" {
		return "create", "", true
	}
	rest = rest[1:]
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return "", "", false
	}
	ref, verb := rest[:i], rest[i+1:]
	switch verb {
	case "update", "release":
		return verb, ref, true
	}
	return "", "", false
}

var errTooLarge = errors.New("the body is larger than 64 KiB")

func readBody(r io.Reader, buf []byte) ([]byte, error) {
	lr := io.LimitReader(r, MaxBody+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	if len(buf) > MaxBody {
		return buf, errTooLarge
	}
	return buf, nil
}

// answer fills res with a: its status, Location (a created session), the
// content type, the body.
func (s *Service) answer(r *h2.Request, res *h2.Response, a Answer) {
	res.Status = a.Status
	if a.Ref != "" && a.Status == http.StatusCreated {
		scheme := "http://"
		if r.TLS {
			scheme = "https://"
		}
		res.Header = append(res.Header, h2.Field{Name: "location", Value: scheme + r.Authority + APIRoot + "/chargingdata/" + a.Ref, Sensitive: true})
	}
	if len(a.Body) > 0 {
		ct := "application/json"
		if a.Problem {
			ct = "application/problem+json"
		}
		res.Header = append(res.Header, h2.Field{Name: "content-type", Value: ct})
		res.Body = append(res.Body, a.Body...)
	}
}
