package chf

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// APIRoot is the path prefix of Nchf_ConvergedCharging v3 (TS 32.291 §6.1.1).
const APIRoot = "/nchf-convergedcharging/v3"

// maxBody is the largest request body read: the codec's limit plus one
// byte, to tell "too large" from "exactly at the limit".
const maxBody = 64<<10 + 1

// Handler serves the Nchf_ConvergedCharging routes:
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
	start := time.Now()
	op, ref, ok := route(r.URL.Path)
	if !ok {
		p := nchf.Problem(nchf.CauseResourceURIStructureNotFound, "no such resource: "+r.URL.Path)
		writeAnswer(w, r, problemAnswer(p))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		p := nchf.ProblemDetails{Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
			Detail: r.Method + " is not allowed here; use POST"}
		writeAnswer(w, r, problemAnswer(p))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		p := nchf.ProblemDetails{Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "the body must be application/json, not " + ct}
		writeAnswer(w, r, problemAnswer(p))
		return
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	body, err := readBody(r.Body, (*bp)[:0])
	*bp = body[:0]
	if err != nil {
		p := nchf.Problem(nchf.CauseInvalidMsgFormat, "reading the body: "+err.Error())
		if errors.Is(err, errTooLarge) {
			p = nchf.ProblemDetails{Title: "Payload too large", Status: http.StatusRequestEntityTooLarge, Detail: err.Error()}
		}
		writeAnswer(w, r, problemAnswer(p))
		return
	}
	var req nchf.ChargingDataRequest
	if err := nchf.DecodeChargingDataRequest(body, &req); err != nil {
		writeAnswer(w, r, problemAnswer(nchf.ProblemOf(err)))
		s.m.requests.WithLabelValues(op, "400").Inc()
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
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
	writeAnswer(w, r, ans)
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
	lr := io.LimitReader(r, maxBody)
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
	if len(buf) >= maxBody {
		return buf, errTooLarge
	}
	return buf, nil
}

func writeAnswer(w http.ResponseWriter, r *http.Request, a Answer) {
	h := w.Header()
	if a.Ref != "" && a.Status == http.StatusCreated {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		h.Set("Location", scheme+"://"+r.Host+APIRoot+"/chargingdata/"+a.Ref)
	}
	if len(a.Body) > 0 {
		if a.Problem {
			h.Set("Content-Type", "application/problem+json")
		} else {
			h.Set("Content-Type", "application/json")
		}
	}
	w.WriteHeader(a.Status)
	if len(a.Body) > 0 && a.Status != http.StatusNoContent {
		_, _ = w.Write(a.Body)
	}
}
