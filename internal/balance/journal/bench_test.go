package journal

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-billing/tollgate/internal/config"
)

// BenchmarkAppend measures sequential appends to one partition (each
// waiting for the previous one's acknowledgement, as the engine's group
// commit does per partition) under both fsync policies:
//
//	go test -run '^$' -bench Append -benchtime 3s ./internal/balance/journal/
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{config.SyncPolicyAlways, config.SyncPolicyInterval} {
		for _, size := range []int{16 << 10, 256 << 10} {
			b.Run(fmt.Sprintf("sync=%s/size=%dKiB", sync, size>>10), func(b *testing.B) {
				c, _ := startNATS(b, b.TempDir(), sync)
				j, err := Open(context.Background(), c.JS(), Config{})
				if err != nil {
					b.Fatal(err)
				}
				data := make([]byte, size)
				_, _ = rand.Read(data)
				ctx := context.Background()
				lat := make([]time.Duration, 0, b.N)
				var last uint64
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					start := time.Now()
					last, err = j.Append(ctx, 0, last, data)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				reportLatency(b, lat)
				b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkReplay measures recovery: replaying a partition's tail of 100k
// records (another partition's records interleaved, as in production):
//
//	go test -run '^$' -bench Replay -benchtime 5x ./internal/balance/journal/
func BenchmarkReplay(b *testing.B) {
	const records = 100_000
	for _, size := range []int{128, 1 << 10, 4 << 10} {
		b.Run(fmt.Sprintf("records=%d/size=%dB", records, size), func(b *testing.B) {
			c, _ := startNATS(b, b.TempDir(), config.SyncPolicyInterval)
			j, err := Open(context.Background(), c.JS(), Config{})
			if err != nil {
				b.Fatal(err)
			}
			fill(b, c.JS(), j, 0, records, size)
			fill(b, c.JS(), j, 1, records/10, size) // noise in the stream
			ctx := context.Background()
			b.SetBytes(int64(records * size))
			b.ResetTimer()
			var n int
			for b.Loop() {
				n = 0
				_, err := j.Replay(ctx, 0, 0, func(uint64, []byte) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
				if n != records {
					b.Fatalf("replayed %d records; want %d", n, records)
				}
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// fill appends n records to a partition quickly (asynchronous publishes,
// no fencing header): test data only.
func fill(b *testing.B, js jetstream.JetStream, j *Journal, part, n, size int) {
	b.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	subj := j.subject(part)
	for i := 0; i < n; i++ {
		if _, err := js.PublishMsgAsync(&nats.Msg{Subject: subj, Data: data}); err != nil {
			b.Fatal(err)
		}
		if i%10_000 == 9_999 {
			<-js.PublishAsyncComplete()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("async publishes did not complete")
	}
}

// BenchmarkSnapshot measures saving and loading a 50 MB snapshot:
//
//	go test -run '^$' -bench Snapshot -benchtime 5x ./internal/balance/journal/
func BenchmarkSnapshot(b *testing.B) {
	const size = 50 << 20
	for _, sync := range []string{config.SyncPolicyAlways, config.SyncPolicyInterval} {
		c, _ := startNATS(b, b.TempDir(), sync)
		j, err := Open(context.Background(), c.JS(), Config{})
		if err != nil {
			b.Fatal(err)
		}
		data := make([]byte, size)
		_, _ = rand.Read(data)
		ctx := context.Background()
		var seq uint64
		b.Run(fmt.Sprintf("sync=%s/op=save/size=50MiB", sync), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				seq++
				if err := j.SaveSnapshot(ctx, 0, seq, data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("sync=%s/op=load/size=50MiB", sync), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				_, got, ok, err := j.LoadSnapshot(ctx, 0)
				if err != nil || !ok || len(got) != size {
					b.Fatalf("LoadSnapshot: %d bytes, %v, %v", len(got), ok, err)
				}
			}
		})
	}
}
