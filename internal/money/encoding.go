package money

import (
	"database/sql/driver"
	"fmt"
)

// MarshalJSON writes d as a JSON string ("12.50") so that no client parses
// it as a binary float.
func (d Decimal) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = d.AppendText(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string ("12.50") or a JSON number literal
// (12.50), parsed exactly from its text — never through float64.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Decimal) MarshalText() ([]byte, error) { return d.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler (used by YAML decoders).
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value implements driver.Valuer: decimals are stored as text (SQLite TEXT,
// PostgreSQL NUMERIC accepts the text form exactly).
func (d Decimal) Value() (driver.Value, error) { return d.String(), nil }

// Scan implements sql.Scanner from text or integer columns. Floating-point
// columns are refused: they cannot hold money exactly.
func (d *Decimal) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Decimal{}
		return nil
	case string:
		return d.UnmarshalText([]byte(v))
	case []byte:
		return d.UnmarshalText(v)
	case int64:
		*d = FromInt(v)
		return nil
	default:
		return fmt.Errorf("money: cannot scan %T into Decimal (store money as text or numeric)", src)
	}
}
