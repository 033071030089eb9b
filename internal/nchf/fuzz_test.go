package nchf

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds the samples of testdata/requests and some broken bodies.
func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"a":}`, `{"invocationSequenceNumber":-0}`, `{"x":"\ud800"}`,
		`{"invocationTimeStamp":"2025-02-29T00:00:00Z"}`, `{"multipleUnitUsage":[{"ratingGroup":1e2}]}`, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
}

// checkCodec is the property every decoder must have: no panic; it accepts
// only well-formed JSON; its errors are DecodeErrors with a valid
// ProblemDetails; and encoding what it decoded is stable under decoding.
func checkCodec[T any](t *testing.T, data []byte, decode func([]byte, *T) error, encode func([]byte, *T) []byte) {
	var v T
	err := decode(data, &v)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %v is not a *DecodeError", err)
		}
		pd := de.ProblemDetails()
		if p := AppendProblemDetails(nil, &pd); !json.Valid(p) {
			t.Fatalf("ProblemDetails encodes to invalid JSON: %s", p)
		}
		return
	}
	if !json.Valid(data) {
		t.Fatalf("accepted malformed JSON %q", data)
	}
	enc := encode(nil, &v)
	if !json.Valid(enc) {
		t.Fatalf("encoded invalid JSON %s from %q", enc, data)
	}
	var again T
	if err := decode(enc, &again); err != nil {
		t.Fatalf("cannot decode own encoding: %v\n%s\nfrom %q", err, enc, data)
	}
	if enc2 := encode(nil, &again); !bytes.Equal(enc, enc2) {
		t.Fatalf("encode∘decode not stable:\n%s\n%s", enc, enc2)
	}
}

func FuzzDecodeChargingDataRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCodec(t, data, DecodeChargingDataRequest, AppendChargingDataRequest)
	})
}

func FuzzDecodeChargingDataResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCodec(t, data, DecodeChargingDataResponse, AppendChargingDataResponse)
	})
}

func FuzzDecodeChargingNotifyRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCodec(t, data, DecodeChargingNotifyRequest, AppendChargingNotifyRequest)
		checkCodec(t, data, DecodeProblemDetails, AppendProblemDetails)
	})
}
