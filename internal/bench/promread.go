package bench

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// promHist is a Prometheus histogram read from a registry: cumulative
// counts per upper bound (the +Inf bucket last).
type promHist struct {
	count  uint64
	sum    float64
	bounds []float64
	cum    []uint64
}

// gatherHist reads the histogram name from g, summing every series of it.
func gatherHist(g prometheus.Gatherer, name string) promHist {
	var h promHist
	mfs, err := g.Gather()
	if err != nil {
		return h
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ph := m.GetHistogram()
			if ph == nil {
				continue
			}
			h.count += ph.GetSampleCount()
			h.sum += ph.GetSampleSum()
			for i, b := range ph.GetBucket() {
				if i == len(h.bounds) {
					h.bounds = append(h.bounds, b.GetUpperBound())
					h.cum = append(h.cum, 0)
				}
				h.cum[i] += b.GetCumulativeCount()
			}
		}
	}
	if len(h.bounds) > 0 {
		h.bounds = append(h.bounds, math.Inf(1))
		h.cum = append(h.cum, h.count)
	}
	return h
}

// gatherValue returns the sum over the series of the counter or gauge name
// in g (0 if absent).
func gatherValue(g prometheus.Gatherer, name string) float64 {
	mfs, err := g.Gather()
	if err != nil {
		return 0
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			}
		}
	}
	return v
}

// sub returns the observations of h that came after before.
func (h promHist) sub(before promHist) promHist {
	if len(before.cum) != len(h.cum) {
		return h
	}
	out := promHist{count: h.count - before.count, sum: h.sum - before.sum, bounds: h.bounds, cum: make([]uint64, len(h.cum))}
	for i := range h.cum {
		out.cum[i] = h.cum[i] - before.cum[i]
	}
	return out
}

func (h promHist) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / float64(h.count)
}

// quantile estimates the q-quantile by linear interpolation within the
// bucket, as PromQL's histogram_quantile does (but the lowest bucket
// answers its upper bound).
func (h promHist) quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := q * float64(h.count)
	for i, c := range h.cum {
		if float64(c) < rank {
			continue
		}
		if i == 0 {
			// The lowest bucket has no known lower bound (and the batch
			// histogram's is the point 1): report its upper bound.
			return h.bounds[0]
		}
		lo, below := h.bounds[i-1], h.cum[i-1]
		hi := h.bounds[i]
		if math.IsInf(hi, 1) {
			return lo
		}
		in := c - below
		if in == 0 {
			return hi
		}
		return lo + (hi-lo)*(rank-float64(below))/float64(in)
	}
	return h.bounds[len(h.bounds)-2]
}

// batchReport summarizes the engine's group commits from its histograms of
// ops per append and append latency.
func batchReport(batch, appendSec promHist) BatchReport {
	return BatchReport{
		Appends:      batch.count,
		MeanOps:      round3(batch.mean()),
		P50Ops:       round3(batch.quantile(0.50)),
		P99Ops:       round3(batch.quantile(0.99)),
		AppendMeanMs: round3(appendSec.mean() * 1e3),
		AppendP50Ms:  round3(appendSec.quantile(0.50) * 1e3),
		AppendP99Ms:  round3(appendSec.quantile(0.99) * 1e3),
		Sizes:        batch.buckets(),
	}
}

// buckets returns the non-empty buckets with their own (not cumulative)
// counts.
func (h promHist) buckets() []Bucket {
	var out []Bucket
	for i, c := range h.cum {
		n := c
		if i > 0 {
			n -= h.cum[i-1]
		}
		if n == 0 {
			continue
		}
		le := "+Inf"
		if !math.IsInf(h.bounds[i], 1) {
			le = strconv.FormatFloat(h.bounds[i], 'g', -1, 64)
		}
		out = append(out, Bucket{Le: le, Count: n})
	}
	return out
}
