package ledger

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	entries, records, redelivered prometheus.Counter
	decodeErrors, applyErrors     prometheus.Counter
	batchSize, applySeconds       prometheus.Histogram
	delay                         prometheus.Histogram
	seq                           prometheus.Gauge
}

// newMetrics creates the projector's metrics, labelled projection=name, and
// registers them in reg when it is not nil. A projector re-created under the
// same name (a restart in the same process) takes over the registered
// counters and histograms, and replaces the lag gauge, which reads lag.
func newMetrics(reg prometheus.Registerer, name string, lag func() time.Duration, log *slog.Logger) *metrics {
	labels := prometheus.Labels{"projection": name}
	counter := func(n, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: help, ConstLabels: labels})
	}
	m := &metrics{
		entries: counter("tollgate_ledger_projected_entries_total",
			"Ledger entries written to the SQL ledger, including re-applied ones."),
		records: counter("tollgate_ledger_projected_records_total",
			"Journal records applied to the SQL ledger."),
		redelivered: counter("tollgate_ledger_redelivered_records_total",
			"Journal records delivered again at or below the committed offset (applied idempotently)."),
		decodeErrors: counter("tollgate_ledger_decode_errors_total",
			"Journal records that could not be decoded; the projection stops at the first."),
		applyErrors: counter("tollgate_ledger_apply_errors_total",
			"SQL ledger transactions that failed (retried unless the error is permanent)."),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_ledger_projection_batch_size",
			Help:        "Journal records per SQL ledger transaction.",
			ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1, 2, 15)}),
		applySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_ledger_apply_seconds",
			Help:        "Duration of one SQL ledger transaction.",
			ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_ledger_commit_delay_seconds",
			Help:        "Age of the oldest journal record of an SQL ledger transaction when it committed.",
			ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		seq: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tollgate_ledger_projected_seq",
			Help: "Highest journal sequence committed to the SQL ledger.", ConstLabels: labels}),
	}
	if reg == nil {
		return m
	}
	lagGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_ledger_projection_lag_seconds",
		Help: "How far the SQL ledger is behind real time: while records are in hand, the age of the oldest; " +
			"otherwise the age the oldest record of the last transaction had when it was committed.",
		ConstLabels: labels}, func() float64 { return lag().Seconds() })
	m.entries = register(reg, m.entries, log)
	m.records = register(reg, m.records, log)
	m.redelivered = register(reg, m.redelivered, log)
	m.decodeErrors = register(reg, m.decodeErrors, log)
	m.applyErrors = register(reg, m.applyErrors, log)
	m.batchSize = register(reg, m.batchSize, log)
	m.applySeconds = register(reg, m.applySeconds, log)
	m.delay = register(reg, m.delay, log)
	m.seq = register(reg, m.seq, log)
	if err := reg.Register(lagGauge); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) && reg.Unregister(are.ExistingCollector) {
			err = reg.Register(lagGauge)
		}
		if err != nil {
			log.Warn("ledger projection: lag metric not registered", "error", err)
		}
	}
	return m
}

// register registers c, or returns the collector registered before under
// the same name and labels.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("ledger projection: metric not registered", "error", err)
	return c
}
