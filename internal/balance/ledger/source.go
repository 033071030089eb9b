package ledger

import (
	"context"

	"github.com/tollgate-billing/tollgate/internal/balance/journal"
)

// JournalSource adapts the balance journal's durable consumer to Source.
func JournalSource(j *journal.Journal) Source { return journalSource{j} }

type journalSource struct{ j *journal.Journal }

func (s journalSource) Consume(ctx context.Context, durable string, fn func([]Record) error) error {
	var recs []Record
	return s.j.Consume(ctx, durable, func(batch []journal.Record) error {
		recs = recs[:0]
		for _, r := range batch {
			recs = append(recs, Record(r))
		}
		return fn(recs)
	})
}
