package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: values are kept to 1 part in
// 2^(subBits-1) (64 sub-buckets per power of two, under 1.6 % relative
// error), and exactly below 2^subBits nanoseconds.
const subBits = 7

const (
	subCount = 1 << subBits       // exact buckets below 2^subBits
	subHalf  = 1 << (subBits - 1) // sub-buckets per power of two above
	// nBuckets covers every non-negative int64.
	nBuckets = subCount + (63-subBits)*subHalf
)

// Histogram is a log-linear histogram of durations in the manner of
// HdrHistogram: exact up to 128 ns, then 64 buckets per power of two, so
// every recorded value is known to within 1.6 %. Min, max, count and sum are
// exact. Recording is O(1) and never allocates.
//
// A Histogram is not safe for concurrent use: give each goroutine its own
// and Merge them at the end. The zero value is not usable; call
// NewHistogram.
type Histogram struct {
	counts []uint64
	n      uint64
	sum    int64 // ns; saturates at math.MaxInt64
	min    int64
	max    int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, nBuckets), min: math.MaxInt64}
}

// bucketOf returns the bucket index of v ≥ 0.
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits // ≥ 1: the shift that leaves subBits bits
	mant := int(uint64(v) >> e)          // in [subHalf, subCount)
	return subCount + (e-1)*subHalf + mant - subHalf
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	j := i - subCount
	e := j/subHalf + 1
	mant := int64(j%subHalf + subHalf)
	lo = mant << e
	hi = lo + (int64(1) << e) - 1
	return lo, hi
}

// Record adds one observation; a negative duration counts as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.n++
	if h.sum > math.MaxInt64-v {
		h.sum = math.MaxInt64
	} else {
		h.sum += v
	}
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if h.sum > math.MaxInt64-o.sum {
		h.sum = math.MaxInt64
	} else {
		h.sum += o.sum
	}
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Reset empties h.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.n, h.sum, h.min, h.max = 0, 0, math.MaxInt64, 0
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.n }

// Min returns the smallest observation (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max returns the largest observation (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean observation (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.n))
}

// Quantile returns the value at or below which a fraction q (0 ≤ q ≤ 1) of
// the observations lie, as the largest value of its bucket (so it never
// understates; like HdrHistogram's highest equivalent value), and never more
// than Max. It returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Percentiles is a latency summary of a Histogram, in milliseconds (JSON
// friendly; latency, never money).
type Percentiles struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p99_9_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Summary returns the usual percentiles of h.
func (h *Histogram) Summary() Percentiles {
	return Percentiles{
		Count:  h.n,
		MeanMs: ms(h.Mean()),
		P50Ms:  ms(h.Quantile(0.50)),
		P90Ms:  ms(h.Quantile(0.90)),
		P99Ms:  ms(h.Quantile(0.99)),
		P999Ms: ms(h.Quantile(0.999)),
		MaxMs:  ms(h.Max()),
	}
}

// ms converts d to milliseconds with µs resolution.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
