package chf

import (
	"context"
	"fmt"
	"strings"

	"github.com/tollgate-billing/tollgate/internal/balance"
)

// EngineStore keeps sessions in the balance engine, as put_state blobs of
// the session's account: a session is journaled in its account's partition
// (cluster state, S0.5), group-committed with the balance operations of
// every other request, durable before Save returns, snapshotted and
// recovered with the partition — and owned by whichever node owns the
// partition, so a session moves with its account's money (S0.6).
type EngineStore struct {
	// States lists the blobs of the partitions this node serves
	// (balance.Engine.States).
	States func(ctx context.Context, prefix string, fn func(name, account string, data []byte) error) error
}

// statePrefix names the CHF's blobs among other subsystems' state.
const statePrefix = "chf:"

// Save stores the session through b (the request's transaction).
func (k EngineStore) Save(ctx context.Context, b balance.Doer, s *Session) error {
	data := encodeSession(s)
	op := balance.Op{Kind: balance.KindPutState, Key: statePrefix + s.Ref, Account: s.AccountID, Name: statePrefix + s.Ref, Data: data}
	if _, err := b.Do(ctx, &op); err != nil {
		return fmt.Errorf("chf: save session %s: %w", s.Ref, err)
	}
	return nil
}

// Delete removes the session.
func (k EngineStore) Delete(ctx context.Context, b balance.Doer, s *Session) error {
	op := balance.Op{Kind: balance.KindPutState, Key: statePrefix + s.Ref, Account: s.AccountID, Name: statePrefix + s.Ref}
	if _, err := b.Do(ctx, &op); err != nil {
		return fmt.Errorf("chf: delete session %s: %w", s.Ref, err)
	}
	return nil
}

// Load calls fn for every stored session of the partitions this node serves.
func (k EngineStore) Load(ctx context.Context, fn func(*Session) error) error {
	return k.States(ctx, statePrefix, func(name, _ string, data []byte) error {
		s := &Session{}
		if err := decodeSessionBlob(data, s); err != nil {
			return fmt.Errorf("chf: stored session %s: %w", strings.TrimPrefix(name, statePrefix), err)
		}
		return fn(s)
	})
}
