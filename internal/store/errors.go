package store

import "errors"

// Sentinel errors. Errors returned by the Store wrap one of these (or
// account.ErrInvalid for bad input) with a message naming the record and the
// field; test them with errors.Is.
var (
	// ErrNotFound: the record (or one it refers to, such as the account of a
	// new subscriber) does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the record exists with different content, or a unique
	// field (an IMSI, an MSISDN …) already belongs to another record.
	ErrConflict = errors.New("store: conflict")
	// ErrStale: an update carried a version other than the stored one;
	// re-read and retry.
	ErrStale = errors.New("store: stale version")
	// ErrInUse: a delete of a record that others still refer to.
	ErrInUse = errors.New("store: in use")
	// ErrSchemaTooNew: the database was migrated by a newer tollgate; this
	// binary refuses to touch it.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
	// ErrSchemaOutdated: the database needs migrations and Config.Migrate
	// is off.
	ErrSchemaOutdated = errors.New("store: database schema is outdated")
)
