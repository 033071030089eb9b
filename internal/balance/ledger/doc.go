// Package ledger projects the balance journals into the SQL ledger
// (DESIGN.md §3: the records store holds the ledger; the journals in NATS
// JetStream are the truth).
//
// A [Projector] reads the journal records with a durable consumer
// ([Source]), decodes each into a balance.Batch ([Decoder]) and writes the
// batches' ledger entries to the records store ([Sink], implemented by
// *store.Store) — one SQL transaction per delivered batch of records (split
// at Config.MaxEntries entries), which also advances the projection's offset
// to the highest journal sequence applied. Only when that transaction has
// committed does the projector return to the source, which then
// acknowledges the batch.
//
// # Linger
//
// A transaction costs a commit (a WAL append and fsync in SQLite) and
// writes every page it dirtied — about one page of the account index per
// entry, at random — however few entries it has. With Config.Linger the
// source gathers a batch until its oldest record is Linger old (or
// Config.MaxRecords records are there) before the projector sees it: under
// load a few large transactions a second instead of dozens of small ones.
// The records gathered are delivered to the durable consumer but neither
// written nor acknowledged: a projector stopped while it lingers leaves them
// to the next one, and the offset only ever moves with a commit. The lag
// counts them from the moment they are gathered.
//
// # Exactly once
//
// Delivery is at least once: a crash between the commit and the
// acknowledgement, a lost acknowledgement or a retry delivers records again.
// Every entry is stored under (journal sequence, index in the record), and
// the sink skips an entry already stored (and checks that it is the same
// entry), so a redelivered record adds nothing: every entry lands exactly
// once.
//
// The projector does not skip records at or below the stored offset before
// handing them to the sink. The offset is a high-water mark, not a promise
// that every lower record was applied: a source may deliver a record again
// after later ones (JetStream redelivers an unacknowledged message after its
// AckWait, behind newer messages, when the consumer cannot be reset), and
// skipping it by the offset would lose it. Re-applying a redelivered record
// costs one idempotent INSERT; losing it would break the ledger. Such
// records are counted (tollgate_ledger_redelivered_records_total).
//
// # Errors
//
// A record that does not decode is corruption or a bug, never something to
// step over: the projector applies the records before it in the batch, logs
// the bad record at error level, counts it
// (tollgate_ledger_decode_errors_total) and stops — Run returns an error
// wrapping [ErrCorrupt], and the record stays unacknowledged in the journal.
// The same holds when the sink finds a different entry stored at a journal
// position (store.ErrConflict) or refuses the input (account.ErrInvalid).
// Any other sink error (the database is down, a deadlock, a timeout) is
// returned to the source, which offers the batch again after a backoff; the
// projection lag grows meanwhile.
//
// # Lag
//
// The SQL ledger may lag the journal by a bounded, measured delay: when the
// projector keeps up, about Config.Linger plus one transaction.
// [Projector.Lag] is how far it is behind now: the age of the oldest record
// delivered (or gathered) but not yet committed, 0 when everything
// delivered is committed. The gauge tollgate_ledger_projection_lag_seconds
// shows the same while records are in hand; otherwise the age the oldest
// record of the last transaction had when it committed (the longest an
// acknowledged operation of that transaction took to appear in SQL); the
// histogram tollgate_ledger_commit_delay_seconds has that age for every
// transaction. A record's age is measured from Record.Time (when the
// journal stored it), or from the newest op time in it when the source does
// not give one.
//
// # Metrics
//
// Each carries the label projection=<Config.Name>:
//
//	tollgate_ledger_projected_entries_total    entries written (including re-applied ones)
//	tollgate_ledger_projected_records_total    journal records applied
//	tollgate_ledger_redelivered_records_total  records at or below the offset when delivered
//	tollgate_ledger_projection_lag_seconds     see Lag above
//	tollgate_ledger_projection_batch_size      records per SQL transaction (histogram)
//	tollgate_ledger_apply_seconds              duration of one SQL transaction (histogram)
//	tollgate_ledger_commit_delay_seconds       age of a transaction's oldest record at its commit (histogram)
//	tollgate_ledger_projected_seq              highest journal sequence committed
//	tollgate_ledger_decode_errors_total        undecodable records (the projector stops)
//	tollgate_ledger_apply_errors_total         failed SQL transactions
package ledger
