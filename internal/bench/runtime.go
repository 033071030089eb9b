package bench

import (
	"math"
	"runtime/metrics"
)

// RuntimeReport is what the Go runtime saw during a load phase: how long
// runnable goroutines waited for a CPU (scheduler latency) and how long
// garbage collection stopped the world. When an engine's own timings are
// short but the request latencies are long, these show where the rest went.
type RuntimeReport struct {
	SchedP50Ms float64 `json:"sched_p50_ms"`
	SchedP99Ms float64 `json:"sched_p99_ms"`
	SchedMaxMs float64 `json:"sched_max_ms"`
	GCPauseMs  float64 `json:"gc_pause_total_ms"`
	GCCycles   uint64  `json:"gc_cycles"`
	// AllocatedMB is the heap allocated during the phase: what drives the
	// GC cycles, whose marking of a large state slows everything.
	AllocatedMB float64 `json:"allocated_mb"`
}

var runtimeSamples = []string{"/sched/latencies:seconds", "/sched/pauses/total/gc:seconds", "/gc/cycles/total:gc-cycles", "/gc/heap/allocs:bytes"}

// runtimeSnap is a reading of the runtime metrics RuntimeReport is made of.
type runtimeSnap struct {
	sched, pauses *metrics.Float64Histogram
	cycles, alloc uint64
}

func readRuntime() runtimeSnap {
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, n := range runtimeSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	var r runtimeSnap
	if s[0].Value.Kind() == metrics.KindFloat64Histogram {
		r.sched = s[0].Value.Float64Histogram()
	}
	if s[1].Value.Kind() == metrics.KindFloat64Histogram {
		r.pauses = s[1].Value.Float64Histogram()
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		r.cycles = s[2].Value.Uint64()
	}
	if s[3].Value.Kind() == metrics.KindUint64 {
		r.alloc = s[3].Value.Uint64()
	}
	return r
}

// since reports the runtime's activity between before and r.
func (r runtimeSnap) since(before runtimeSnap) RuntimeReport {
	var rep RuntimeReport
	if r.sched != nil && before.sched != nil {
		counts := histDiff(r.sched, before.sched)
		rep.SchedP50Ms = histQuantile(r.sched.Buckets, counts, 0.50) * 1e3
		rep.SchedP99Ms = histQuantile(r.sched.Buckets, counts, 0.99) * 1e3
		rep.SchedMaxMs = histQuantile(r.sched.Buckets, counts, 1) * 1e3
	}
	if r.pauses != nil && before.pauses != nil {
		counts := histDiff(r.pauses, before.pauses)
		for i, c := range counts {
			rep.GCPauseMs += float64(c) * bucketMid(r.pauses.Buckets, i) * 1e3
		}
	}
	rep.GCCycles = r.cycles - before.cycles
	rep.AllocatedMB = float64(r.alloc-before.alloc) / (1 << 20)
	return rep
}

func histDiff(after, before *metrics.Float64Histogram) []uint64 {
	d := make([]uint64, len(after.Counts))
	for i := range after.Counts {
		d[i] = after.Counts[i]
		if i < len(before.Counts) {
			d[i] -= before.Counts[i]
		}
	}
	return d
}

// histQuantile returns the upper bound of the bucket holding quantile q
// (a conservative reading).
func histQuantile(buckets []float64, counts []uint64, q float64) float64 {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank && c > 0 {
			hi := buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = buckets[i]
			}
			return hi
		}
	}
	return buckets[len(buckets)-1]
}

func bucketMid(buckets []float64, i int) float64 {
	lo, hi := buckets[i], buckets[i+1]
	if math.IsInf(lo, -1) {
		lo = 0
	}
	if math.IsInf(hi, 1) {
		hi = lo
	}
	return (lo + hi) / 2
}
