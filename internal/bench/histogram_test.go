package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	// Every value lies in its bucket's range, buckets are contiguous and
	// ordered, and a bucket is at most 1/64 of its lower bound wide.
	var prevHi int64 = -1
	for i := range nBuckets {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d,%d]: bucketOf(lo)=%d bucketOf(hi)=%d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if lo >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/64+1e-12 {
			t.Fatalf("bucket %d [%d,%d] too wide", i, lo, hi)
		}
		prevHi = hi
	}
	if prevHi != math.MaxInt64 {
		t.Fatalf("last bucket ends at %d, want MaxInt64", prevHi)
	}
}

func TestHistogramExactSmallValues(t *testing.T) {
	h := NewHistogram()
	for v := range 100 {
		h.Record(time.Duration(v + 1)) // 1..100 ns
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.01, 1}, {0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}} {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %d, want %d", tt.q, got, tt.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50 {
		t.Errorf("count %d min %d max %d mean %d", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramQuantilesAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 0-10ms", func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Millisecond))) }},
		{"lognormal around 300µs", func() time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*1.2) * 300e3)
		}},
		{"bimodal with 1% at 50ms", func() time.Duration {
			if rng.IntN(100) == 0 {
				return 50*time.Millisecond + time.Duration(rng.Int64N(1e6))
			}
			return 200*time.Microsecond + time.Duration(rng.Int64N(1e5))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistogram()
			vals := make([]time.Duration, 100_000)
			for i := range vals {
				vals[i] = tt.gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				exact := vals[max(0, int(math.Ceil(q*float64(len(vals))))-1)]
				got := h.Quantile(q)
				// Never below the exact value, above it by at most a bucket.
				if got < exact || float64(got-exact) > float64(exact)/64+1 {
					t.Errorf("Quantile(%v) = %v, exact %v", q, got, exact)
				}
			}
			if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
				t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
		})
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(b)
	a.Merge(NewHistogram()) // merging an empty one changes nothing
	if a.Summary() != all.Summary() || a.Min() != all.Min() {
		t.Errorf("merged %+v, want %+v", a.Summary(), all.Summary())
	}
	a.Reset()
	if a.Count() != 0 || a.Quantile(0.5) != 0 || a.Max() != 0 || a.Min() != 0 || a.Mean() != 0 {
		t.Errorf("after Reset: %+v", a.Summary())
	}
	a.Record(-5) // negative counts as zero
	if a.Max() != 0 || a.Count() != 1 {
		t.Errorf("negative: %+v", a.Summary())
	}
}

func TestHistogramHuge(t *testing.T) {
	h := NewHistogram()
	h.Record(math.MaxInt64)
	h.Record(math.MaxInt64)
	if h.Quantile(0.5) != math.MaxInt64 || h.Mean() <= 0 {
		t.Errorf("huge: q50 %d mean %d", h.Quantile(0.5), h.Mean())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	var d time.Duration
	for b.Loop() {
		d = (d*7 + 12345) % (50 * time.Millisecond)
		h.Record(d)
	}
}
