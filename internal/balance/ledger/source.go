package ledger

import (
	"context"

	"github.com/tollgate-billing/tollgate/internal/balance/journal"
)

// JournalSource adapts the balance journal's durable consumer to Source.
func JournalSource(j *journal.Journal) Source { return journalSource{j} }

type journalSource struct{ j *journal.Journal }

func (s journalSource) Consume(ctx context.Context, durable string, opts SourceOptions, fn func([]Record) error) error {
	var (
		recs  []Record
		jopts = journal.ConsumeOptions{MaxBatch: opts.MaxRecords, Linger: opts.Linger}
	)
	if opts.Gathering != nil {
		jopts.Gathering = func(first []journal.Record) {
			rs := make([]Record, len(first))
			for i, r := range first {
				rs[i] = Record(r)
			}
			opts.Gathering(rs)
		}
	}
	return s.j.ConsumeWith(ctx, durable, jopts, func(batch []journal.Record) error {
		recs = recs[:0]
		for _, r := range batch {
			recs = append(recs, Record(r))
		}
		return fn(recs)
	})
}

// KeepFrom returns the lowest journal sequence the projection named name
// has not consumed yet: the engine's truncation after a snapshot must keep
// it and everything after it (balance.EngineConfig.KeepFrom). Before the
// projection's consumer exists, nothing may be truncated.
func KeepFrom(j *journal.Journal, name string) func(ctx context.Context) (uint64, error) {
	return func(ctx context.Context) (uint64, error) {
		floor, ok, err := j.AckFloor(ctx, name)
		if err != nil || !ok {
			return 0, err
		}
		return floor + 1, nil
	}
}
