package chf

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	resultCodes     *prometheus.CounterVec
	retransmissions prometheus.Counter
	events          prometheus.Counter
	unbilled        prometheus.Counter
	idleClosed      prometheus.Counter
	records         *prometheus.CounterVec
	sessions        func() (open, closed int)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_chf_requests_total", Help: "Nchf requests by operation (create, update, release, event) and HTTP status.",
		}, []string{"op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tollgate_chf_request_seconds", Help: "Nchf request handling time by operation, from body read to answer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"op"}),
		resultCodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_chf_result_codes_total", Help: "Rating group results (multipleUnitInformation resultCode).",
		}, []string{"code"}),
		retransmissions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tollgate_chf_retransmissions_total", Help: "Requests answered with a stored answer (retransmissions).",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tollgate_chf_events_total", Help: "One-time events (IEC) charged.",
		}),
		unbilled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tollgate_chf_unbilled_total", Help: "Reported usage the balance could not cover (recorded in CDRs as unbilled).",
		}),
		idleClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tollgate_chf_idle_sessions_closed_total", Help: "Sessions closed by the idle timeout.",
		}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_chf_records_total", Help: "CHF-CDRs handed to the CDR writer, by type and result.",
		}, []string{"type", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.resultCodes, m.retransmissions, m.events, m.unbilled, m.idleClosed, m.records)
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tollgate_chf_sessions", Help: "Open charging sessions held by this node.",
		}, func() float64 {
			if m.sessions == nil {
				return 0
			}
			open, _ := m.sessions()
			return float64(open)
		}))
	}
	return m
}

// newNotifyQueueGauge reports the notifications waiting in the Notifier's
// queue (notify.go).
func newNotifyQueueGauge(queued func() int) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tollgate_chf_notify_queue", Help: "CHF notifications waiting to be sent.",
	}, func() float64 { return float64(queued()) })
}
