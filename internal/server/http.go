package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-billing/tollgate/internal/version"
)

// APIPrefix is where [Options.API] is mounted (DESIGN §6).
const APIPrefix = "/api/v1/"

// healthCheckTimeout bounds each subsystem's [HealthChecker] call.
const healthCheckTimeout = 2 * time.Second

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		Registry:          s.registry, // promhttp's own error counter
		ErrorLog:          slog.NewLogLogger(s.logger.With("component", "metrics").Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.Handle(APIPrefix, s.gate(s.opts.API))
	if s.cfg.HTTP.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return s.instrument(mux)
}

// healthResponse is the body of /healthz.
type healthResponse struct {
	Status    string `json:"status"`              // ok, starting, unavailable, stopping
	Subsystem string `json:"subsystem,omitempty"` // the one starting or failing
	Error     string `json:"error,omitempty"`
}

// serveHealth answers 200 {"status":"ok"} once every subsystem is ready and
// healthy, 503 naming the subsystem otherwise (DESIGN §6).
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	st := s.health.Load()
	switch st.phase {
	case phaseStarting:
		writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "starting", Subsystem: st.subsystem})
		return
	case phaseStopping:
		writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "stopping"})
		return
	}
	if name, err := s.check(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "unavailable", Subsystem: name, Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
}

// check returns the first unhealthy part: the cluster state, then subsystems
// implementing HealthChecker, in start order.
func (s *Server) check(ctx context.Context) (string, error) {
	if cs := s.cluster.Load(); cs != nil {
		if err := cs.Healthy(); err != nil {
			return "clusterstate", err
		}
	}
	for _, sub := range s.subsystems {
		hc, ok := sub.(HealthChecker)
		if !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
		err := hc.Healthy(cctx)
		cancel()
		if err != nil {
			return sub.Name(), err
		}
	}
	return "", nil
}

// gate answers 503 until the server is ready and once it is stopping, so the
// API never reaches a subsystem that is not started.
func (s *Server) gate(api http.Handler) http.Handler {
	if api == nil {
		api = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch s.health.Load().phase {
		case phaseStarting:
			writeProblem(w, http.StatusServiceUnavailable, "tollgate is starting")
			return
		case phaseStopping:
			writeProblem(w, http.StatusServiceUnavailable, "tollgate is shutting down")
			return
		}
		api.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem writes an RFC 9457 problem, the error form of the admin API.
func writeProblem(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"title": http.StatusText(code), "status": code, "detail": detail,
	})
}

// httpMetrics are the request metrics of the HTTP server.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry, info version.Info) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_http_requests_total",
			Help: "HTTP requests served by the admin listener, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_http_request_duration_seconds",
			Help:    "Latency of HTTP requests served by the admin listener, by method, route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "code"}),
	}
	build := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "tollgate_build_info",
		Help:        "A metric with constant value 1 labelled by the tollgate build.",
		ConstLabels: prometheus.Labels{"version": info.Version, "commit": info.Commit, "goversion": info.GoVersion},
	}, func() float64 { return 1 })
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.requests, m.duration,
	} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue // a caller-supplied registry may already have the Go/process collectors
			}
			return nil, err
		}
	}
	return m, nil
}

var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// instrument counts and times every request and logs it at debug level. The
// route label is the ServeMux pattern (bounded cardinality), "none" when no
// pattern matched; unusual methods are counted as "OTHER".
func (s *Server) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		mux.ServeHTTP(rec, r) // sets r.Pattern
		d := time.Since(t0)

		code := rec.status()
		method := r.Method
		if !knownMethods[method] {
			method = "OTHER"
		}
		route := r.Pattern
		if route == "" {
			route = "none"
		}
		labels := prometheus.Labels{"method": method, "route": route, "code": strconv.Itoa(code)}
		s.metrics.requests.With(labels).Inc()
		s.metrics.duration.With(labels).Observe(d.Seconds())

		if s.logger.Enabled(r.Context(), slog.LevelDebug) {
			s.logger.LogAttrs(r.Context(), slog.LevelDebug, "http request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("code", code), slog.Duration("took", d), slog.Int64("bytes", rec.bytes),
				slog.String("remote", r.RemoteAddr))
		}
	})
}

// statusRecorder captures the status code and body size of a response.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 { // 1xx are informational, not the final status
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Flush supports streaming handlers that type-assert http.Flusher.
func (r *statusRecorder) Flush() {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK // handler wrote nothing
	}
	return r.code
}
