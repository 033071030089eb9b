package balance

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// This file holds the engine's Prometheus metrics; it is the only file of
// the package where float64 appears (metric values are not money).

type metrics struct {
	ops           *prometheus.CounterVec
	batch         prometheus.Histogram
	append        prometheus.Histogram
	snapshot      prometheus.Histogram
	snapshotBytes prometheus.Histogram
	recovery      prometheus.Histogram
	owned         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_balance_ops_total",
			Help: "Balance operations by kind and result."}, []string{"kind", "result"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_balance_append_batch_ops",
			Help: "Operations per journal append (group commit size).", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		append: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_balance_append_seconds",
			Help: "Latency of one journal append.", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}),
		snapshot: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_balance_snapshot_seconds",
			Help: "Time to save a partition snapshot.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		snapshotBytes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_balance_snapshot_bytes",
			Help: "Size of a partition snapshot.", Buckets: prometheus.ExponentialBuckets(1024, 4, 12)}),
		recovery: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_balance_recovery_seconds",
			Help: "Time to take over and recover a partition.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		owned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tollgate_balance_partitions_owned",
			Help: "Partitions this node serves."}),
	}
	if reg != nil {
		reg.MustRegister(m.ops, m.batch, m.append, m.snapshot, m.snapshotBytes, m.recovery, m.owned)
	}
	return m
}

func (m *metrics) setOwned(n int) { m.owned.Set(float64(n)) }

func (m *metrics) observeSnapshot(d time.Duration, bytes int) {
	m.snapshot.Observe(d.Seconds())
	m.snapshotBytes.Observe(float64(bytes))
}

func (m *metrics) observeAppend(d time.Duration, ops int) {
	m.append.Observe(d.Seconds())
	m.batch.Observe(float64(ops))
}
