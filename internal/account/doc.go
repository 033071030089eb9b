// Package account holds tollgate's master data types: accounts (prepaid or
// postpaid, with a currency, a credit limit, a status and a billing-cycle
// anchor), the subscribers that charge to them (identified by IMSI, MSISDN,
// SUPI or an external id) and the history of tariff plan assignments.
//
// The types carry JSON tags in snake_case and a Validate method that reports
// every problem at once: an errors.Join of *FieldError values, each naming the
// offending field by its JSON name and each wrapping ErrInvalid, so callers
// test with errors.Is(err, account.ErrInvalid) and list the fields with
// errors.As or by walking the joined errors (see FieldErrors).
//
// The package holds no storage code: the records store (internal/store)
// persists these types in SQLite or PostgreSQL. Money amounts are
// money.Decimal, never float64 (DESIGN.md §2.2).
//
// Identifiers (account, subscriber and plan ids) are 1–128 characters of
// letters, digits and . _ - : @; the store generates UUIDv7 strings when a
// caller leaves an id empty.
package account
