package balance

import (
	"context"
	"errors"
	"fmt"
)

// Txner runs transactions: several operations on one account's partition
// decided together and made durable by one journal append ([Engine]).
type Txner interface {
	Doer
	Txn(ctx context.Context, account string, fn func(Doer) error) error
}

// Txn runs fn in the partition goroutine of account, as part of the
// partition's next group commit, and returns once the operations fn applied
// are durable. fn applies operations through its Doer; each is applied to
// the state at once (so fn sees its result and can decide the next one) and
// all of them are journaled in the same append as the rest of the batch:
// one round trip to the journal instead of one per operation. This is how
// the CHF charges used units, reserves the next grant and stores its
// session in one step.
//
// fn runs with the partition's exclusive access: it must not block, do I/O
// or call the engine other than through its Doer, and it may only touch
// accounts of the same partition (the account given to Txn, normally). Its
// Doer must not be used after fn returns.
//
// The operations are not all-or-nothing: each is an ordinary operation
// with its own idempotency key, and when fn returns an error the ones it
// applied before stay applied and are journaled (Txn returns fn's error
// after they are durable). A caller that retries the same fn with the same
// keys gets the same results back, as with Do. When the append fails, Txn
// returns that error and the partition rebuilds its state from the journal:
// nothing fn applied is kept.
//
// A context that ends before fn started means fn never runs; once fn has
// started Txn waits for the batch to commit regardless of ctx (fn's results
// must not be abandoned half read).
func (e *Engine) Txn(ctx context.Context, account string, fn func(Doer) error) error {
	if account == "" {
		return fmt.Errorf("%w: transaction without an account", ErrInvalid)
	}
	p := e.parts[PartitionOf(account, len(e.parts))]
	r := getRequest()
	r.txn = fn
	if err := p.submit(ctx, r); err != nil {
		return err
	}
	err := r.err
	putRequest(r)
	return err
}

// States of a transaction request (request.txnState): a queued fn may be
// abandoned by its caller; once running it is not.
const (
	txnQueued int32 = iota
	txnRunning
	txnAbandoned
)

// abandon reports whether the caller may give up on r: true for every
// request but a transaction whose fn has started.
func (r *request) abandon() bool {
	return r.txn == nil || r.txnState.CompareAndSwap(txnQueued, txnAbandoned)
}

// runTxn runs a transaction request in the partition goroutine; the
// request is answered with the batch (or dropped when abandoned).
func (p *partition) runTxn(r *request) {
	if !r.txnState.CompareAndSwap(txnQueued, txnRunning) {
		return // abandoned: its caller is gone and no longer owns r
	}
	tx := &Tx{p: p}
	r.err = tx.run(r.txn)
	tx.p = nil
	p.pending = append(p.pending, r)
}

// Tx is the Doer a transaction's fn applies its operations with.
type Tx struct {
	p     *partition
	bytes int
}

// maxTxnBytes bounds the estimated encoded size of one transaction, so
// that a transaction accepted into an almost full batch still fits one
// journal record (the batch stops growing at MaxBatchBytes, half a record).
func (p *partition) maxTxnBytes() int { return p.e.cfg.MaxBatchBytes / 2 }

// run calls fn, turning a panic into an error: the operations applied
// before it are whole (the state machine does not panic midway), so the
// partition goes on.
func (tx *Tx) run(fn func(Doer) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			tx.p.e.log.Error("balance transaction panicked", "partition", tx.p.id, "panic", v)
			err = fmt.Errorf("balance: transaction failed: %v", v)
		}
	}()
	return fn(tx)
}

// Do applies op in the transaction's partition now; it is journaled with
// the transaction. ctx is not used: the transaction already runs.
func (tx *Tx) Do(_ context.Context, op *Op) (Result, error) {
	p := tx.p
	if p == nil {
		return Result{}, errors.New("balance: transaction used after its fn returned")
	}
	res, err := tx.apply(op)
	p.e.m.ops.WithLabelValues(op.Kind.String(), resultLabel(err)).Inc()
	return res, err
}

func (tx *Tx) apply(op *Op) (Result, error) {
	p := tx.p
	if err := checkSizes(op); err != nil {
		return Result{}, err
	}
	if PartitionOf(op.Account, len(p.e.parts)) != p.id {
		return Result{}, fmt.Errorf("%w: account %q is not in the transaction's partition", ErrInvalid, op.Account)
	}
	if tx.bytes+opBytes(op, 4) > p.maxTxnBytes() {
		return Result{}, fmt.Errorf("%w: transaction larger than %d bytes", ErrInvalid, p.maxTxnBytes())
	}
	o := *op
	res, b, err := p.apply(&o)
	tx.bytes += b
	return res, err
}
