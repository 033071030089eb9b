package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// Stable error codes. Clients may switch on them; they never change meaning.
const (
	CodeInvalidArgument  = "invalid_argument"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeStale            = "stale_version"
	CodeInUse            = "in_use"
	CodeRatingFailed     = "rating_failed"
	CodeInsufficient     = "insufficient_funds"
	CodeAccountInactive  = "account_inactive"
	CodeReservation      = "reservation_rejected"
	CodePayloadTooLarge  = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

// FieldDetail names one bad input field.
type FieldDetail struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Error is the body of every error response.
type Error struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Field   string        `json:"field,omitempty"`
	Details []FieldDetail `json:"details,omitempty"`

	status int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// badRequest builds an invalid_argument error about one field.
func badRequest(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeInvalidArgument, Message: msg, Field: field, status: http.StatusBadRequest,
		Details: []FieldDetail{{Field: field, Message: msg}}}
}

// prefixFields prepends prefix to every field path of e (for nested bodies).
func prefixFields(e *Error, prefix string) *Error {
	if prefix == "" {
		return e
	}
	join := func(f string) string {
		if f == "" {
			return prefix
		}
		return prefix + "." + f
	}
	e.Field = join(e.Field)
	for i := range e.Details {
		e.Details[i].Field = join(e.Details[i].Field)
	}
	return e
}

// toError maps any error to an API error. This is the one place where error
// categories become HTTP statuses (STYLE habit 7).
func toError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var details []FieldDetail
	collect := func(err error) {
		walk(err, func(e error) {
			var fe *account.FieldError
			var pe *rating.FieldError
			switch {
			case errors.As(e, &fe):
				details = append(details, FieldDetail{Field: fe.Field, Message: fe.Msg})
			case errors.As(e, &pe):
				details = append(details, FieldDetail{Field: pe.Path, Line: pe.Line, Message: pe.Msg})
			}
		})
	}
	switch {
	case errors.Is(err, account.ErrInvalid), errors.Is(err, rating.ErrInvalidPlan):
		collect(err)
		e := &Error{Code: CodeInvalidArgument, Message: err.Error(), Details: details, status: http.StatusBadRequest}
		if len(details) > 0 {
			e.Field = details[0].Field
			e.Message = fmt.Sprintf("%d invalid field(s); first: %s: %s", len(details), details[0].Field, details[0].Message)
		}
		return e
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: CodeNotFound, Message: err.Error(), status: http.StatusNotFound}
	case errors.Is(err, store.ErrStale):
		return &Error{Code: CodeStale, Message: err.Error(), status: http.StatusConflict}
	case errors.Is(err, store.ErrInUse):
		return &Error{Code: CodeInUse, Message: err.Error(), status: http.StatusConflict}
	case errors.Is(err, store.ErrConflict):
		return &Error{Code: CodeConflict, Message: err.Error(), status: http.StatusConflict}
	case errors.Is(err, rating.ErrUnknownPlan), errors.Is(err, rating.ErrUnknownService), errors.Is(err, rating.ErrNoRate):
		return &Error{Code: CodeRatingFailed, Message: err.Error(), status: http.StatusUnprocessableEntity}
	case errors.Is(err, money.ErrOverflow), errors.Is(err, rating.ErrOverflow):
		return &Error{Code: CodeRatingFailed, Message: err.Error(), status: http.StatusUnprocessableEntity}
	case errors.Is(err, balance.ErrInsufficientFunds):
		return &Error{Code: CodeInsufficient, Message: err.Error(), status: http.StatusUnprocessableEntity}
	case errors.Is(err, balance.ErrAccountInactive):
		return &Error{Code: CodeAccountInactive, Message: err.Error(), status: http.StatusUnprocessableEntity}
	case errors.Is(err, balance.ErrReservationExpired), errors.Is(err, balance.ErrExceedsReservation):
		return &Error{Code: CodeReservation, Message: err.Error(), status: http.StatusUnprocessableEntity}
	case errors.Is(err, balance.ErrUnknownAccount), errors.Is(err, balance.ErrUnknownReservation):
		return &Error{Code: CodeNotFound, Message: err.Error(), status: http.StatusNotFound}
	case errors.Is(err, balance.ErrKeyConflict), errors.Is(err, balance.ErrReservationExists), errors.Is(err, balance.ErrCurrencyMismatch):
		return &Error{Code: CodeConflict, Message: err.Error(), status: http.StatusConflict}
	case errors.Is(err, balance.ErrNotOwner), errors.Is(err, balance.ErrFenced), errors.Is(err, balance.ErrUnavailable):
		return &Error{Code: CodeUnavailable, Message: err.Error(), status: http.StatusServiceUnavailable}
	case errors.Is(err, balance.ErrInvalid), errors.Is(err, balance.ErrOverflow):
		return &Error{Code: CodeInvalidArgument, Message: err.Error(), status: http.StatusBadRequest}
	case errors.Is(err, rating.ErrInvalidEvent):
		return &Error{Code: CodeInvalidArgument, Message: err.Error(), status: http.StatusBadRequest}
	case errors.Is(err, usage.ErrInvalid), errors.Is(err, money.ErrSyntax), errors.Is(err, money.ErrScale),
		errors.Is(err, money.ErrUnknownCurrency):
		return &Error{Code: CodeInvalidArgument, Message: err.Error(), status: http.StatusBadRequest}
	}
	return &Error{Code: CodeInternal, Message: "internal error", status: http.StatusInternalServerError}
}

// walk calls fn for err and every error joined or wrapped inside it.
func walk(err error, fn func(error)) {
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			walk(e, fn)
		}
	default:
		fn(err)
	}
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e.status >= 500 {
		a.log.ErrorContext(r.Context(), "api request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	writeJSON(w, e.status, struct {
		Error *Error `json:"error"`
	}{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
