package cdr

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkAppendJSON encodes a partial data record (two rating groups) and
// an SMS event record, against encoding/json for reference.
func BenchmarkAppendJSON(b *testing.B) {
	for _, c := range []struct {
		name string
		r    *Record
	}{{"partial-2rg", partialRecord()}, {"event-sms", smsRecord()}} {
		b.Run(c.name, func(b *testing.B) {
			buf := AppendJSON(nil, c.r)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendJSON(buf[:0], c.r)
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			buf, _ := json.Marshal(c.r)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(c.r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriter measures Write through Run to the file, fsync every
// second (the default), until Flush has the last record on disk: from one
// goroutine (serial) and from GOMAXPROCS goroutines (parallel).
func BenchmarkWriter(b *testing.B) {
	r := partialRecord()
	line := int64(len(AppendJSON(nil, r)) + 1)
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			w, err := NewWriter(Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			b.SetBytes(line)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := w.Write(ctx, r); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for range b.N {
					if err := w.Write(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if err := w.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
