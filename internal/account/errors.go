package account

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every validation error of this package.
var ErrInvalid = errors.New("account: invalid")

// FieldError is one problem with one field. Field is the JSON path of the
// field ("credit_limit"); it is empty for a problem with the whole object.
type FieldError struct {
	Field string
	Msg   string
}

// Error implements error: "account: invalid credit_limit: must not be negative".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return ErrInvalid.Error() + ": " + e.Msg
	}
	return ErrInvalid.Error() + " " + e.Field + ": " + e.Msg
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// FieldErrors returns the *FieldError values contained in err, which may be a
// single *FieldError, an errors.Join of them or a wrapper of either.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects FieldErrors for one Validate call.
type problems []error

func (p *problems) add(field, msg string) {
	*p = append(*p, &FieldError{Field: field, Msg: msg})
}

func (p problems) err() error { return errors.Join(p...) }

// MaxIDLen is the longest identifier accepted.
const MaxIDLen = 128

// maxTextLen bounds free-text fields such as names.
const maxTextLen = 256

// ValidateID checks an identifier (account, subscriber or plan id): 1–128
// characters of ASCII letters, digits and . _ - : @. It returns nil or a
// *FieldError for field.
func ValidateID(field, id string) error {
	if msg := idProblem(id); msg != "" {
		return &FieldError{Field: field, Msg: msg}
	}
	return nil
}

func idProblem(id string) string {
	switch {
	case id == "":
		return "required"
	case len(id) > MaxIDLen:
		return "longer than 128 characters"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isIDChar(c) {
			return "may hold only letters, digits and . _ - : @"
		}
	}
	return ""
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("._-:@", c) >= 0
}

// textProblem checks a free-text field: valid UTF-8 without control
// characters, no surrounding white space, at most max bytes.
func textProblem(s string, max int) string {
	if len(s) > max {
		return "too long"
	}
	if strings.TrimSpace(s) != s {
		return "has leading or trailing white space"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) {
			return "must be printable UTF-8 text"
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
