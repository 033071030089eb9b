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
	if err := m.open(ctx, op.Account); err != nil {
		return res, err
	}
	return m.Engine.Do(ctx, op)
}

// Txn runs a transaction (Engine.Txn) on the engine, which must be a
// Txner. When fn fails with ErrUnknownAccount (the first op on an account
// the engine does not know applies nothing), the account is mirrored and
// fn runs again; fn must therefore start from scratch each time it is
// called.
func (m Mirror) Txn(ctx context.Context, account string, fn func(Doer) error) error {
	t, ok := m.Engine.(Txner)
	if !ok {
		return errors.New("balance: the mirrored engine runs no transactions")
	}
	err := t.Txn(ctx, account, fn)
	if !errors.Is(err, ErrUnknownAccount) || m.Account == nil {
		return err
	}
	if err := m.open(ctx, account); err != nil {
		return err
	}
	return t.Txn(ctx, account, fn)
}

// open mirrors account id from master data into the engine.
func (m Mirror) open(ctx context.Context, id string) error {
	acc, err := m.Account(ctx, id)
	if err != nil {
		return err
	}
	open := OpenAccountOp(acc)
	_, err = m.Engine.Do(ctx, &open)
	return err
}
