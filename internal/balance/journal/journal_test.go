package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-billing/tollgate/internal/config"
)

func TestAppendReplay(t *testing.T) {
	j, _ := newJournal(t)
	testAppendReplay(t, j)
}

func testAppendReplay(t *testing.T, j *Journal) {
	ctx := t.Context()
	if last, err := j.LastSeq(ctx, 1); err != nil || last != 0 {
		t.Fatalf("LastSeq of an empty partition = %d, %v; want 0", last, err)
	}
	if got, last := replayAll(t, j, 1, 0); len(got) != 0 || last != 0 {
		t.Fatalf("Replay of an empty partition = %v, %d", got, last)
	}

	// Interleave two partitions: each partition's sequence chain is its own.
	var want1 []replayed
	var last1, last2 uint64
	for i := range 20 {
		d := fmt.Sprintf("p1 record %d", i)
		last1 = mustAppend(t, j, 1, last1, d)
		want1 = append(want1, replayed{last1, d})
		last2 = mustAppend(t, j, 2, last2, fmt.Sprintf("p2 record %d", i))
	}
	if got, err := j.LastSeq(ctx, 1); err != nil || got != last1 {
		t.Fatalf("LastSeq(1) = %d, %v; want %d", got, err, last1)
	}
	if got, err := j.LastSeq(ctx, 2); err != nil || got != last2 {
		t.Fatalf("LastSeq(2) = %d, %v; want %d", got, err, last2)
	}

	got, last := replayAll(t, j, 1, 0)
	if last != last1 || !equalReplay(got, want1) {
		t.Fatalf("Replay(1, 0) = %v, last %d\nwant %v, last %d", got, last, want1, last1)
	}
	// From the middle: only later records.
	got, last = replayAll(t, j, 1, want1[9].seq)
	if last != last1 || !equalReplay(got, want1[10:]) {
		t.Fatalf("Replay(1, %d) = %v, last %d; want %v", want1[9].seq, got, last, want1[10:])
	}
	// Nothing new: afterSeq back.
	if got, last = replayAll(t, j, 1, last1); len(got) != 0 || last != last1 {
		t.Fatalf("Replay(1, last) = %v, %d", got, last)
	}
	// A journal shorter than the caller's snapshot.
	if _, err := j.Replay(ctx, 1, last1+1000, func(uint64, []byte) error { return nil }); !errors.Is(err, ErrBehind) {
		t.Fatalf("Replay beyond the end: %v; want ErrBehind", err)
	}
	// An error from fn stops the replay and reports how far it got.
	stop := errors.New("stop")
	n := 0
	done, err := j.Replay(ctx, 1, 0, func(uint64, []byte) error {
		if n == 3 {
			return stop
		}
		n++
		return nil
	})
	if !errors.Is(err, stop) || done != want1[2].seq {
		t.Fatalf("Replay with failing fn = %d, %v; want %d, stop", done, err, want1[2].seq)
	}

	// Record size limits.
	if j.MaxRecord() < 256<<10 {
		t.Fatalf("MaxRecord() = %d; want at least 256 KiB", j.MaxRecord())
	}
	big := bytes.Repeat([]byte{'x'}, j.MaxRecord())
	seq, err := j.Append(ctx, 1, last1, big)
	if err != nil {
		t.Fatalf("Append of MaxRecord bytes: %v", err)
	}
	if _, err := j.Append(ctx, 1, seq, append(big, 'y')); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append of MaxRecord+1 bytes: %v; want ErrTooLarge", err)
	}
	got, _ = replayAll(t, j, 1, last1)
	if len(got) != 1 || got[0].seq != seq || len(got[0].data) != len(big) {
		t.Fatalf("replay of the large record: %d records", len(got))
	}
	if _, err := j.Append(ctx, -1, 0, nil); err == nil {
		t.Fatal("Append to partition -1 succeeded")
	}
}

func equalReplay(a, b []replayed) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFencing(t *testing.T) {
	j, _ := newJournal(t)
	testFencing(t, j)
}

func testFencing(t *testing.T, j *Journal) {
	ctx := t.Context()
	const part = 7

	// Two appenders with the same expectation: exactly one wins.
	for round := range 5 {
		last, err := j.LastSeq(ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				_, errs[i] = j.Append(ctx, part, last, fmt.Appendf(nil, "round %d writer %d", round, i))
			})
		}
		wg.Wait()
		ok, fenced := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrWrongLastSeq):
				fenced++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if ok != 1 || fenced != 1 {
			t.Fatalf("round %d: %d succeeded, %d fenced (%v); want 1 and 1", round, ok, fenced, errs)
		}
	}

	// Takeover: the new owner appends an epoch marker; the old owner's next
	// append, still expecting the old last sequence, is refused.
	oldLast, err := j.LastSeq(ctx, part)
	if err != nil {
		t.Fatal(err)
	}
	marker := mustAppend(t, j, part, oldLast, "epoch marker")
	_, err = j.Append(ctx, part, oldLast, []byte("late write of the old owner"))
	if !errors.Is(err, ErrWrongLastSeq) {
		t.Fatalf("stale append: %v; want ErrWrongLastSeq", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(part)) {
		t.Errorf("error does not name the partition: %v", err)
	}
	// Expecting an empty partition fails too.
	if _, err := j.Append(ctx, part, 0, []byte("x")); !errors.Is(err, ErrWrongLastSeq) {
		t.Fatalf("append expecting empty: %v; want ErrWrongLastSeq", err)
	}
	// The refused records are not in the journal.
	got, last := replayAll(t, j, part, oldLast)
	if last != marker || len(got) != 1 || got[0].data != "epoch marker" {
		t.Fatalf("after takeover the journal holds %v (last %d); want only the marker", got, last)
	}

	// A transport failure is not a fencing error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := j.Append(cctx, part, marker, []byte("x")); err == nil || errors.Is(err, ErrWrongLastSeq) {
		t.Fatalf("append with a cancelled context: %v; want a non-fencing error", err)
	}
}

func TestTruncate(t *testing.T) {
	j, _ := newJournal(t)
	testTruncate(t, j)
}

func testTruncate(t *testing.T, j *Journal) {
	ctx := t.Context()
	const part, other = 3, 4
	var seqs []uint64
	var last, lastOther uint64
	for i := range 10 {
		last = mustAppend(t, j, part, last, fmt.Sprint("r", i))
		seqs = append(seqs, last)
		lastOther = mustAppend(t, j, other, lastOther, fmt.Sprint("o", i))
	}
	// Without a snapshot nothing may go.
	if err := j.Truncate(ctx, part, seqs[5]); err != nil {
		t.Fatal(err)
	}
	if got, _ := replayAll(t, j, part, 0); len(got) != 10 {
		t.Fatalf("Truncate without a snapshot removed records: %d left", len(got))
	}

	snapAt := seqs[5]
	if err := j.SaveSnapshot(ctx, part, snapAt, []byte("state after r5")); err != nil {
		t.Fatal(err)
	}
	// Asking for more than the snapshot covers truncates only below it.
	if err := j.Truncate(ctx, part, seqs[8]); err != nil {
		t.Fatal(err)
	}
	got, gotLast := replayAll(t, j, part, 0)
	if gotLast != last || len(got) != 5 || got[0].seq != seqs[5] || got[0].data != "r5" {
		t.Fatalf("after Truncate at %d: %v (last %d); want r5..r9", snapAt, got, gotLast)
	}
	// Recovery: snapshot, then replay after it.
	snapSeq, _, ok, err := j.LoadSnapshot(ctx, part)
	if err != nil || !ok || snapSeq != snapAt {
		t.Fatalf("LoadSnapshot = %d, %v, %v", snapSeq, ok, err)
	}
	got, gotLast = replayAll(t, j, part, snapSeq)
	if gotLast != last || len(got) != 4 || got[0].data != "r6" {
		t.Fatalf("replay after the snapshot: %v", got)
	}
	// The other partition is untouched.
	if got, _ := replayAll(t, j, other, 0); len(got) != 10 {
		t.Fatalf("partition %d lost records: %d left", other, len(got))
	}

	// A snapshot at the last record: everything but the last record goes,
	// and appends still chain on it.
	if err := j.SaveSnapshot(ctx, part, last, []byte("state after r9")); err != nil {
		t.Fatal(err)
	}
	if err := j.Truncate(ctx, part, last+100); err != nil {
		t.Fatal(err)
	}
	got, gotLast = replayAll(t, j, part, 0)
	if gotLast != last || len(got) != 1 || got[0].seq != last {
		t.Fatalf("after truncating everything: %v (last %d); want the last record kept", got, gotLast)
	}
	if l, err := j.LastSeq(ctx, part); err != nil || l != last {
		t.Fatalf("LastSeq after truncate = %d, %v; want %d", l, err, last)
	}
	if _, err := j.Append(ctx, part, 0, []byte("x")); !errors.Is(err, ErrWrongLastSeq) {
		t.Fatalf("append expecting empty after truncate: %v; want ErrWrongLastSeq", err)
	}
	mustAppend(t, j, part, last, "r10")
}

func TestOpenIdempotentAndRacing(t *testing.T) {
	c, _ := startNATS(t, t.TempDir(), "")
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = Open(ctx, c.JS(), Config{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("racing Open %d: %v", i, err)
		}
	}
	j, err := Open(ctx, c.JS(), Config{})
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	if got := j.Config(); got.Stream != DefaultStream || got.SubjectPrefix != DefaultSubjectPrefix ||
		got.Replicas != 1 || got.LeaseBucket != DefaultLeaseBucket || got.LeaseTTL != DefaultLeaseTTL ||
		got.SnapshotBucket != DefaultSnapshotBucket {
		t.Errorf("defaults = %+v", got)
	}
	s, err := c.JS().Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.CachedInfo().Config
	if sc.Storage != jetstream.FileStorage || sc.MaxAge != 0 || sc.MaxBytes != -1 || sc.MaxMsgs != -1 ||
		sc.MaxMsgSize != streamMaxMsgSize || sc.DenyPurge || sc.Subjects[0] != DefaultSubjectPrefix+".>" {
		t.Errorf("stream config = %+v", sc)
	}
	kv, err := c.JS().KeyValue(ctx, DefaultLeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.History() != 1 || st.TTL() != 0 {
		t.Errorf("lease bucket: history %d ttl %s, %v", st.History(), st.TTL(), err)
	}
	if _, err := c.JS().ObjectStore(ctx, DefaultSnapshotBucket); err != nil {
		t.Errorf("snapshot bucket: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	c, _ := startNATS(t, t.TempDir(), "")
	for _, cfg := range []Config{
		{Stream: "a.b"},
		{SubjectPrefix: "x.>"},
		{SubjectPrefix: "x."},
		{Replicas: 7},
		{LeaseTTL: -1},
	} {
		if _, err := Open(t.Context(), c.JS(), cfg); err == nil {
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}

// TestRestart: everything survives a restart of the embedded server on the
// same directory.
func TestRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c, stop := startNATS(t, dir, config.SyncPolicyAlways)
	j, err := Open(ctx, c.JS(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := range 5 {
		last = mustAppend(t, j, 0, last, fmt.Sprint("r", i))
	}
	now := t0
	lease, err := j.Acquire(ctx, 0, "node-a", now)
	if err != nil {
		t.Fatal(err)
	}
	snap := bytes.Repeat([]byte("snapshot "), 100_000)
	if err := j.SaveSnapshot(ctx, 0, last, snap); err != nil {
		t.Fatal(err)
	}
	// A projection that has seen the first three records.
	consumeN(t, j, "ledger", 5)
	last = mustAppend(t, j, 0, last, "r5")
	stop()

	c2, _ := startNATS(t, dir, config.SyncPolicyAlways)
	j2, err := Open(ctx, c2.JS(), Config{})
	if err != nil {
		t.Fatalf("Open after restart: %v", err)
	}
	if l, err := j2.LastSeq(ctx, 0); err != nil || l != last {
		t.Fatalf("LastSeq after restart = %d, %v; want %d", l, err, last)
	}
	got, _ := replayAll(t, j2, 0, 0)
	if len(got) != 6 || got[5].data != "r5" {
		t.Fatalf("replay after restart: %v", got)
	}
	cur, ok, err := j2.Current(ctx, 0)
	if err != nil || !ok || cur.Owner != "node-a" || cur.Epoch != lease.Epoch || !cur.Expires.Equal(lease.Expires) {
		t.Fatalf("lease after restart = %+v, %v, %v; want %+v", cur, ok, err, lease)
	}
	if _, err := j2.Renew(ctx, lease, now.Add(time.Second)); err != nil {
		t.Fatalf("Renew after restart: %v", err)
	}
	seq, data, ok, err := j2.LoadSnapshot(ctx, 0)
	if err != nil || !ok || seq != got[4].seq || !bytes.Equal(data, snap) {
		t.Fatalf("snapshot after restart: seq %d ok %v err %v equal %v", seq, ok, err, bytes.Equal(data, snap))
	}
	// The durable projection continues with the record after its last ack.
	recs := consumeN(t, j2, "ledger", 1)
	if string(recs[0].Data) != "r5" {
		t.Fatalf("projection resumed at %q; want r5", recs[0].Data)
	}
}

func TestStreamSeq(t *testing.T) {
	tests := []struct {
		reply string
		want  uint64
	}{
		{"$JS.ACK.TOLLGATE_BALANCE.c1.1.4711.12.1700000000000000000.0", 4711},
		{"$JS.ACK._.AHASH.TOLLGATE_BALANCE.c1.1.4712.12.1700000000000000000.3.xyz", 4712},
		{"$JS.ACK.hub.AHASH.TOLLGATE_BALANCE.c1.2.99.12.1700000000000000000.3", 99},
	}
	for _, tt := range tests {
		got, err := streamSeq(fakeMsg{reply: tt.reply})
		if err != nil || got != tt.want {
			t.Errorf("streamSeq(%q) = %d, %v; want %d", tt.reply, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "_INBOX.x", "$JS.ACK.S.c.1.x.2.3.4"} {
		if _, err := streamSeq(fakeMsg{reply: bad}); err == nil {
			t.Errorf("streamSeq(%q) succeeded", bad)
		}
	}
}

// fakeMsg is a delivered message with only a reply subject.
type fakeMsg struct {
	jetstream.Msg
	reply string
}

func (m fakeMsg) Reply() string { return m.reply }

func (m fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return nil, errors.New("not a JetStream message")
}

func TestPubAckSeq(t *testing.T) {
	for in, want := range map[string]int64{
		`{"stream":"TOLLGATE_BALANCE","seq":1}`:                     1,
		`{"stream":"S","seq":18446744073709551615}`:                 -1, // over the guard: decoded in full
		`{"stream":"S","seq":123456,"duplicate":true}`:              123456,
		`{"stream":"S","domain":"d","seq":7}`:                       -1,
		`{"error":{"code":400,"err_code":10071,"description":"x"}}`: -1,
		`{"stream":"S","seq":5,"error":{"code":503}}`:               -1,
		`{"stream":"S","seq":}`:                                     -1,
		`{"stream":"S","seq":12`:                                    -1,
		`{"stream":"S","seq":1x}`:                                   -1,
		`{"stream":"a\",\"seq\":9","seq":3}`:                        -1,
		``:                                                          -1,
	} {
		seq, ok := pubAckSeq([]byte(in))
		if (want < 0) != !ok || (ok && seq != uint64(want)) {
			t.Errorf("pubAckSeq(%s) = %d, %v; want %d", in, seq, ok, want)
		}
	}
}
