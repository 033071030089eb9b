package h2

import (
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http2"
)

// Metrics are a server's transport figures, for an operator to see its
// connections, what it refused and how well its writes batch
// (requests_total / writes_total is the answers per syscall).
type Metrics struct {
	conns, connsOpen   prometheus.Counter
	open               prometheus.Gauge
	requests           prometheus.Counter
	writes, writeBytes prometheus.Counter
	goaway, rst        *prometheus.CounterVec
}

// NewMetrics registers a server's metrics with reg (nil: not registered),
// labelled listener=name.
func NewMetrics(reg prometheus.Registerer, name string) *Metrics {
	l := prometheus.Labels{"listener": name}
	m := &Metrics{
		conns: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_h2_connections_total", ConstLabels: l,
			Help: "HTTP/2 connections served."}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tollgate_h2_connections", ConstLabels: l,
			Help: "HTTP/2 connections open."}),
		requests: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_h2_requests_total", ConstLabels: l,
			Help: "Requests handed to the handler."}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_h2_writes_total", ConstLabels: l,
			Help: "Writes (syscalls) to connections; each carries every frame ready."}),
		writeBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_h2_write_bytes_total", ConstLabels: l,
			Help: "Bytes written to connections."}),
		goaway: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_h2_goaway_sent_total", ConstLabels: l,
			Help: "GOAWAY frames sent, by error code (NO_ERROR: shutdown or idle; others: the client broke the protocol)."}, []string{"code"}),
		rst: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_h2_rst_stream_sent_total", ConstLabels: l,
			Help: "RST_STREAM frames sent, by error code (REFUSED_STREAM: over the stream limit or after GOAWAY; NO_ERROR: a body no longer read)."}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.conns, m.open, m.requests, m.writes, m.writeBytes, m.goaway, m.rst)
	}
	return m
}

// The methods do nothing on a nil *Metrics.

func (m *Metrics) connOpened() {
	if m != nil {
		m.conns.Inc()
		m.open.Inc()
	}
}

func (m *Metrics) connClosed() {
	if m != nil {
		m.open.Dec()
	}
}

func (m *Metrics) request() {
	if m != nil {
		m.requests.Inc()
	}
}

func (m *Metrics) wrote(n int) {
	if m != nil {
		m.writes.Inc()
		m.writeBytes.Add(float64(n))
	}
}

func (m *Metrics) goAwaySent(code http2.ErrCode) {
	if m != nil {
		m.goaway.WithLabelValues(code.String()).Inc()
	}
}

func (m *Metrics) rstSent(code http2.ErrCode) {
	if m != nil {
		m.rst.WithLabelValues(code.String()).Inc()
	}
}
