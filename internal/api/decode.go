package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBody bounds every request body; plans are the largest documents.
const maxBody = 4 << 20

// readBody reads the request body up to maxBody and checks its media type
// against the accepted ones ("" accepts a missing Content-Type).
func readBody(r *http.Request, accept ...string) ([]byte, string, error) {
	mt := "application/json"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		mt, _, err = mime.ParseMediaType(ct)
		if err != nil {
			return nil, "", &Error{Code: CodeUnsupportedMedia, Message: "bad Content-Type: " + err.Error(), status: http.StatusUnsupportedMediaType}
		}
	}
	ok := false
	for _, a := range accept {
		if a == mt {
			ok = true
		}
	}
	if !ok {
		return nil, "", &Error{Code: CodeUnsupportedMedia, Message: fmt.Sprintf("Content-Type %q not accepted; use %s", mt, strings.Join(accept, " or ")),
			status: http.StatusUnsupportedMediaType}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", &Error{Code: CodePayloadTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", maxBody),
				status: http.StatusRequestEntityTooLarge}
		}
		return nil, "", badRequest("", "reading request body: %v", err)
	}
	return body, mt, nil
}

// decodeJSON reads a JSON request body into v strictly: unknown fields,
// trailing data and wrong types are errors that name the field and position.
func decodeJSON(r *http.Request, v any) error {
	body, _, err := readBody(r, "application/json")
	if err != nil {
		return err
	}
	return unmarshalStrict(body, v)
}

func unmarshalStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(body, err)
	}
	if dec.More() {
		return badRequest("", "unexpected data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("", "unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns an encoding/json error into a positioned invalid_argument.
func jsonError(body []byte, err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(body, se.Offset)
		return badRequest("", "malformed JSON at line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		line, col := position(body, te.Offset)
		return badRequest(te.Field, "wrong type at line %d, column %d: got JSON %s, want %s", line, col, te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "truncated JSON")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name := strings.Trim(f, `"`)
		return badRequest(name, "unknown field %q", name)
	}
	// Errors from a field's own UnmarshalJSON (a bad decimal, currency …).
	return badRequest(fieldOf(msg), "%s", strings.TrimPrefix(msg, "json: "))
}

// fieldOf extracts the Go-reported field path from messages like
// `json: cannot unmarshal ... into Go struct field Account.credit_limit of type ...`.
func fieldOf(msg string) string {
	const marker = "Go struct field "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(marker):]
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		rest = rest[:j]
	}
	if j := strings.IndexByte(rest, '.'); j >= 0 {
		rest = rest[j+1:]
	}
	return rest
}

func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	line = 1 + bytes.Count(body[:off], []byte("\n"))
	col = int(off) - bytes.LastIndexByte(body[:off], '\n')
	return line, col
}
