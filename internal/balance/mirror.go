package balance

import (
	"context"
	"errors"
	"strconv"

	master "github.com/tollgate-billing/tollgate/internal/account"
)

// OpenAccountOp is the op that mirrors a master-data account into the
// engine. Its key names the account version, so repeating it is a no-op.
func OpenAccountOp(a master.Account) Op {
	return Op{
		Kind: KindOpenAccount, Key: "account:" + a.ID + ":v" + strconv.FormatInt(a.Version, 10),
		Account: a.ID, AccountType: AccountType(a.Type), Currency: a.Currency.Code,
		CreditLimit: a.CreditLimit, Status: AccountStatus(a.Status),
	}
}

// Doer applies balance operations: the [Engine], or a [Mirror] around it.
type Doer interface {
	Do(ctx context.Context, op *Op) (Result, error)
}

// Mirror applies ops to an engine and, when the engine does not know the
// account yet (it was created in master data before the engine saw it, or
// the mirror op was lost in a crash), mirrors the account from master data
// and retries once.
type Mirror struct {
	Engine Doer
	// Account reads an account from master data.
	Account func(ctx context.Context, id string) (master.Account, error)
}

// Do applies op, mirroring its account first when needed.
func (m Mirror) Do(ctx context.Context, op *Op) (Result, error) {
	res, err := m.Engine.Do(ctx, op)
	if !errors.Is(err, ErrUnknownAccount) || m.Account == nil {
		return res, err
	}
	acc, gerr := m.Account(ctx, op.Account)
	if gerr != nil {
		return res, gerr
	}
	open := OpenAccountOp(acc)
	if _, oerr := m.Engine.Do(ctx, &open); oerr != nil {
		return res, oerr
	}
	return m.Engine.Do(ctx, op)
}
