//go:build goexperiment.jsonv2

package nchf

import (
	jsonv2 "encoding/json/v2"
	"testing"
)

// BenchmarkUpdateJSONv2 measures Go's experimental encoding/json/v2 on the
// same types, as a data point for the codec decision (it needs
// GOEXPERIMENT=jsonv2, so tollgate cannot depend on it yet):
//
//	GOEXPERIMENT=jsonv2 go test -run '^$' -bench UpdateJSONv2 -benchmem ./internal/nchf/
func BenchmarkUpdateJSONv2(b *testing.B) {
	data, resp := benchUpdate(b)
	b.Run("codec=encoding_json_v2/op=decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var req ChargingDataRequest
			if err := jsonv2.Unmarshal(data, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec=encoding_json_v2/op=encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jsonv2.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
