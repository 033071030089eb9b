package cdr

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// This file holds the writer's Prometheus metrics; it is the only file of
// the package where float64 appears (metric values are not money).

type metrics struct {
	written prometheus.Counter
	invalid prometheus.Counter
	files   prometheus.Counter
	write   prometheus.Histogram
}

// newMetrics builds the metrics and registers them with reg (if not nil).
// queueDepth is read at each scrape. A second writer on the same registry
// shares the counters and histogram of the first; its queue depth is not
// exported.
func newMetrics(reg prometheus.Registerer, queueDepth func() int, log *slog.Logger) *metrics {
	records := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_cdr_records_total",
		Help: "CDRs given to the writer, by result: written (to the open file) or invalid (rejected by Write)."},
		[]string{"result"})
	files := prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_cdr_files_total",
		Help: "CDR files completed (renamed from .jsonl.part to .jsonl), including files recovered at start."})
	write := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_cdr_write_seconds",
		Help:    "Time to write one batch of CDRs to the open file (write system calls, rotation included; fsync excluded).",
		Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18)})
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_cdr_queue_depth",
		Help: "CDRs accepted by Write and not yet written."},
		func() float64 { return float64(queueDepth()) })
	if reg != nil {
		records = register(reg, records, log)
		files = register(reg, files, log)
		write = register(reg, write, log)
		register[prometheus.Collector](reg, depth, log)
	}
	return &metrics{
		written: records.WithLabelValues("written"),
		invalid: records.WithLabelValues("invalid"),
		files:   files,
		write:   write,
	}
}

// register registers c, or returns the collector already registered under
// its name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
	case errors.As(err, &are):
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
		log.Warn("cdr: metric already registered by another writer; not exported for this one", "err", err)
	default:
		log.Warn("cdr: cannot register metric", "err", err)
	}
	return c
}

func (m *metrics) observeWrite(d time.Duration, records int) {
	m.write.Observe(d.Seconds())
	m.written.Add(float64(records))
}
