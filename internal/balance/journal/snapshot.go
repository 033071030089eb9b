package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// snapshotSeqKey is the object metadata key holding a snapshot's sequence.
const snapshotSeqKey = "tollgate-journal-seq"

func snapshotName(part int) string { return "p" + strconv.Itoa(part) }

// SaveSnapshot stores data as the partition's snapshot at journal sequence
// seq, replacing the previous one. data must reflect exactly the
// partition's records up to and including seq. The object store splits it
// into chunks, so it may be much larger than a record (hundreds of MB). The
// replacement is atomic: a reader sees the old snapshot or the new one.
//
// A snapshot older than the stored one is refused with [ErrStaleSnapshot]:
// a previous owner finishing a slow save must not undo its successor's.
func (j *Journal) SaveSnapshot(ctx context.Context, part int, seq uint64, data []byte) error {
	if err := checkPartition(part); err != nil {
		return err
	}
	cur, ok, err := j.snapshotSeq(ctx, part)
	if err != nil {
		return err
	}
	if ok && cur > seq {
		return fmt.Errorf("%w: partition %d has one at %d, not saving %d", ErrStaleSnapshot, part, cur, seq)
	}
	meta := jetstream.ObjectMeta{
		Name:        snapshotName(part),
		Description: "tollgate balance partition snapshot",
		Metadata:    map[string]string{snapshotSeqKey: strconv.FormatUint(seq, 10)},
		Opts:        &jetstream.ObjectMetaOptions{ChunkSize: snapshotChunk},
	}
	if _, err := j.obs.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("journal: save snapshot of partition %d at %d: %w", part, seq, err)
	}
	return nil
}

// LoadSnapshot returns the partition's snapshot and its sequence; ok is
// false when none was saved. The content is checked against its digest.
func (j *Journal) LoadSnapshot(ctx context.Context, part int) (seq uint64, data []byte, ok bool, err error) {
	if err := checkPartition(part); err != nil {
		return 0, nil, false, err
	}
	// A save that replaces the object while it is read makes the read fail
	// (its chunks are purged); the next attempt reads the new one.
	for attempt := 0; ; attempt++ {
		seq, data, ok, err = j.loadSnapshot(ctx, part)
		if err == nil || attempt == 2 || ctx.Err() != nil {
			return seq, data, ok, err
		}
	}
}

func (j *Journal) loadSnapshot(ctx context.Context, part int) (uint64, []byte, bool, error) {
	res, err := j.obs.Get(ctx, snapshotName(part))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("journal: load snapshot of partition %d: %w", part, err)
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		return 0, nil, false, fmt.Errorf("journal: load snapshot of partition %d: %w", part, err)
	}
	seq, err := parseSnapshotSeq(part, info)
	if err != nil {
		return 0, nil, false, err
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size) + bytes.MinRead)
	// Reading to EOF makes the object store verify the digest.
	if _, err := buf.ReadFrom(res); err != nil {
		return 0, nil, false, fmt.Errorf("journal: load snapshot of partition %d: %w", part, err)
	}
	if uint64(buf.Len()) != info.Size {
		return 0, nil, false, fmt.Errorf("journal: load snapshot of partition %d: read %d bytes of %d", part, buf.Len(), info.Size)
	}
	return seq, buf.Bytes(), true, nil
}

// snapshotSeq returns the sequence of the partition's stored snapshot.
func (j *Journal) snapshotSeq(ctx context.Context, part int) (uint64, bool, error) {
	info, err := j.obs.GetInfo(ctx, snapshotName(part))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("journal: snapshot of partition %d: %w", part, err)
	}
	seq, err := parseSnapshotSeq(part, info)
	return seq, err == nil, err
}

func parseSnapshotSeq(part int, info *jetstream.ObjectInfo) (uint64, error) {
	s, ok := info.Metadata[snapshotSeqKey]
	if !ok {
		return 0, fmt.Errorf("journal: snapshot of partition %d has no %s metadata", part, snapshotSeqKey)
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("journal: snapshot of partition %d: bad %s %q", part, snapshotSeqKey, s)
	}
	return seq, nil
}
