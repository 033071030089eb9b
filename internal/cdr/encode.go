package cdr

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON of r to dst (one compact object, no newline)
// and returns the extended slice. It writes what encoding/json writes for a
// Record — the same members in the same order, omitempty and omitzero
// members left out alike — without reflection and without allocating when
// dst has room. The differences, none of which changes the decoded value:
// times are converted to UTC ("Z" rather than an offset), '<', '>' and '&'
// are not HTML-escaped, and U+0085 is escaped like U+2028 and U+2029, so
// that a line holds no character that any line splitter breaks on. Invalid
// UTF-8 becomes U+FFFD, as with encoding/json.
//
// AppendJSON does not validate r; see Record.Validate.
func AppendJSON(dst []byte, r *Record) []byte {
	b := append(dst, `{"recordType":`...)
	b = appendString(b, string(r.RecordType))
	b = append(b, `,"recordingNetworkFunctionID":`...)
	b = appendString(b, r.RecordingNetworkFunctionID)
	b = fStr(b, `,"chargingDataRef":`, r.ChargingDataRef)
	b = append(b, `,"recordSequenceNumber":`...)
	b = strconv.AppendUint(b, uint64(r.RecordSequenceNumber), 10)
	b = append(b, `,"subscriberIdentifier":`...)
	b = appendString(b, r.SubscriberIdentifier)
	b = fStr(b, `,"gpsi":`, r.GPSI)
	b = append(b, `,"accountId":`...)
	b = appendString(b, r.AccountID)
	b = fStr(b, `,"planId":`, r.PlanID)
	b = fStr(b, `,"nfConsumerName":`, r.NFConsumerName)
	b = fStr(b, `,"nfFunctionality":`, r.NFFunctionality)
	b = fU64(b, `,"chargingId":`, uint64(r.ChargingID))
	b = fStr(b, `,"dnn":`, r.DNN)
	b = fStr(b, `,"ratType":`, r.RATType)
	b = append(b, `,"recordOpeningTime":`...)
	b = appendTime(b, r.RecordOpeningTime)
	b = append(b, `,"recordClosingTime":`...)
	b = appendTime(b, r.RecordClosingTime)
	b = append(b, `,"duration":`...)
	b = strconv.AppendUint(b, r.DurationSeconds, 10)
	b = append(b, `,"causeForRecordClosing":`...)
	b = appendString(b, r.CauseForRecordClosing)
	if len(r.Usage) > 0 {
		b = append(b, `,"listOfMultipleUnitUsage":[`...)
		for i := range r.Usage {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendUsage(b, &r.Usage[i])
		}
		b = append(b, ']')
	}
	if r.SMS != nil {
		b = append(b, `,"smsChargingInformation":`...)
		b = appendSMS(b, r.SMS)
	}
	return append(b, '}')
}

func appendUsage(b []byte, u *RatingGroupUsage) []byte {
	b = append(b, `{"ratingGroup":`...)
	b = strconv.AppendUint(b, uint64(u.RatingGroup), 10)
	b = fU64(b, `,"serviceId":`, uint64(u.ServiceID))
	b = fStr(b, `,"service":`, u.Service)
	b = fU64(b, `,"uplinkVolume":`, u.UplinkVolume)
	b = fU64(b, `,"downlinkVolume":`, u.DownlinkVolume)
	b = fU64(b, `,"totalVolume":`, u.TotalVolume)
	b = fU64(b, `,"time":`, u.Time)
	b = fU64(b, `,"serviceSpecificUnits":`, u.ServiceSpecificUnits)
	b = fTime(b, `,"firstUsage":`, u.FirstUsage)
	b = fTime(b, `,"lastUsage":`, u.LastUsage)
	if len(u.LocalSequenceNumbers) > 0 {
		b = append(b, `,"localSequenceNumbers":[`...)
		for i, n := range u.LocalSequenceNumbers {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, n, 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"amount":`...)
	b = appendString(b, u.Amount)
	b = append(b, `,"currency":`...)
	b = appendString(b, u.Currency)
	if u.Offline {
		b = append(b, `,"offline":true`...)
	}
	if u.Unbilled != "" {
		b = append(b, `,"unbilled":`...)
		b = appendString(b, u.Unbilled)
	}
	return append(b, '}')
}

// appendSMS writes an object whose members are all optional: each key is
// written with a leading comma, which the first one then drops.
func appendSMS(b []byte, s *SMSInfo) []byte {
	b = append(b, '{')
	open := len(b)
	b = fStr(b, `,"originator":`, s.Originator)
	b = fStr(b, `,"recipient":`, s.Recipient)
	b = fStr(b, `,"smscAddress":`, s.SMSCAddress)
	b = fStr(b, `,"messageType":`, s.MessageType)
	b = fStr(b, `,"messageReference":`, s.MessageReference)
	b = fU64(b, `,"messageSize":`, uint64(s.MessageSize))
	b = fU64(b, `,"numberOfMessagesSent":`, uint64(s.NumberOfMessagesSent))
	b = fTime(b, `,"submissionTime":`, s.SubmissionTime)
	if len(b) > open {
		// Drop the comma in front of the first member.
		copy(b[open:], b[open+1:])
		b = b[:len(b)-1]
	}
	return append(b, '}')
}

// fStr appends key (",\"name\":") and v unless v is empty.
func fStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	return appendString(b, v)
}

func fU64(b []byte, key string, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendUint(b, v, 10)
}

func fTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, key...)
	return appendTime(b, t)
}

// appendTime writes t in UTC as RFC 3339 with as many fractional digits as
// it needs (up to nanoseconds), the layout of encoding/json.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for the ASCII bytes written as they are inside a
// JSON string.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string: '"' and '\\' escaped, control
// characters as \n, \r, \t or \u00XX, invalid UTF-8 as \ufffd, and U+0085,
// U+2028 and U+2029 as \u escapes.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u0085' || r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
