package nchf

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// benchUpdate is the hot path of the CHF: an SMF update with two rating
// groups (used units with triggers, requested units, PDU session
// information), compacted as a Go client sends it, and its two-grant answer.
func benchUpdate(b *testing.B) ([]byte, *ChargingDataResponse) {
	b.Helper()
	var c bytes.Buffer
	if err := json.Compact(&c, readFile(b, "testdata/requests/smf_update.json")); err != nil {
		b.Fatal(err)
	}
	resp := &ChargingDataResponse{
		InvocationTimeStamp:      time.Date(2025, 3, 14, 1, 26, 53, 601e6, time.UTC),
		InvocationSequenceNumber: 7,
		MultipleUnitInformation: []MultipleUnitInformation{
			{ResultCode: ResultCodeSuccess, RatingGroup: 10, GrantedUnit: &GrantedUnit{TotalVolume: 5368709120},
				ValidityTime: 3600, VolumeQuotaThreshold: 536870912,
				Triggers: []Trigger{{TriggerType: TriggerTypeQuotaThreshold, TriggerCategory: TriggerCategoryImmediateReport}}},
			{ResultCode: ResultCodeSuccess, RatingGroup: 20, GrantedUnit: &GrantedUnit{Time: 3600}, ValidityTime: 3600, TimeQuotaThreshold: 300},
		},
	}
	return c.Bytes(), resp
}

// BenchmarkUpdate compares encoding/json (same types, struct tags) with this
// package's codec on decode, encode and both (one request served).
//
//	go test -run '^$' -bench Update -benchmem ./internal/nchf/
func BenchmarkUpdate(b *testing.B) {
	data, resp := benchUpdate(b)
	b.Run("codec=encoding_json/op=decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var req ChargingDataRequest
			if err := json.Unmarshal(data, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec=encoding_json/op=encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec=encoding_json/op=decode+encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var req ChargingDataRequest
			if err := json.Unmarshal(data, &req); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec=nchf/op=decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var req ChargingDataRequest
			if err := DecodeChargingDataRequest(data, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec=nchf/op=encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = AppendChargingDataResponse(buf[:0], resp)
		}
	})
	b.Run("codec=nchf/op=decode+encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			var req ChargingDataRequest
			if err := DecodeChargingDataRequest(data, &req); err != nil {
				b.Fatal(err)
			}
			buf = AppendChargingDataResponse(buf[:0], resp)
		}
	})
}
