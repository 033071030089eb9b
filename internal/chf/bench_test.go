package chf_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/cdr"

	"github.com/tollgate-billing/tollgate/internal/chf"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/nchf"
)

type discardRecords struct{}

func (discardRecords) Write(context.Context, *cdr.Record) error { return nil }

// BenchmarkUpdate measures the CHF's own work for one update request —
// routing, decoding, the session (copy, two rating groups: rate, commit,
// reserve, grant), encoding the answer and the session record — with an
// in-memory balance engine and session store, so that the figure is the
// CHF's cost alone (HTTP/2 and the journal are measured by bench chf).
func BenchmarkUpdate(b *testing.B) {
	svc, err := chf.New(chf.Config{CHF: config.Default().CHF, Balances: &fakeBalances{}, Rater: fakeRater{},
		Directory: fakeDirectory{}, Sessions: &memSessions{}, Records: discardRecords{}})
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()
	create, err := os.ReadFile("../../examples/nchf-create.json")
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/nchf-convergedcharging/v3/chargingdata", bytes.NewReader(create)))
	loc := rec.Header().Get("Location")
	ref := loc[strings.LastIndex(loc, "/")+1:]
	path := "/nchf-convergedcharging/v3/chargingdata/" + ref + "/update"
	req := nchf.ChargingDataRequest{
		SubscriberIdentifier:     "imsi-001010000000001",
		NfConsumerIdentification: nchf.NFIdentification{NFName: "smf", NodeFunctionality: nchf.NodeFunctionalitySmf},
		InvocationTimeStamp:      time.Now(),
		MultipleUnitUsage: []nchf.MultipleUnitUsage{
			usedVolume(10, 1<<20, 3<<20, 1, 10<<20),
			{RatingGroup: 20, RequestedUnit: &nchf.RequestedUnit{Time: 300},
				UsedUnitContainer: []nchf.UsedUnitContainer{{Time: 120, LocalSequenceNumber: 1}}},
		},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req.InvocationSequenceNumber = uint32(i + 1)
		body := nchf.AppendChargingDataRequest(nil, &req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
