package cdr_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-billing/tollgate/internal/cdr"
)

func ExampleAppendJSON() {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	r := &cdr.Record{
		RecordType:                 cdr.RecordEvent,
		RecordingNetworkFunctionID: "chf-1",
		RecordSequenceNumber:       1,
		SubscriberIdentifier:       "imsi-001010123456789",
		AccountID:                  "acc-42",
		NFFunctionality:            "SMSF",
		RecordOpeningTime:          at,
		RecordClosingTime:          at,
		CauseForRecordClosing:      cdr.CauseEvent,
		Usage:                      []cdr.RatingGroupUsage{{RatingGroup: 100, ServiceSpecificUnits: 1, Amount: "0.09", Currency: "EUR"}},
		SMS:                        &cdr.SMSInfo{Recipient: "491719876543", MessageType: "SUBMISSION"},
	}
	if err := r.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(cdr.AppendJSON(nil, r)))
	// Output:
	// {"recordType":"CHF_EVENT","recordingNetworkFunctionID":"chf-1","recordSequenceNumber":1,"subscriberIdentifier":"imsi-001010123456789","accountId":"acc-42","nfFunctionality":"SMSF","recordOpeningTime":"2026-03-14T15:09:26Z","recordClosingTime":"2026-03-14T15:09:26Z","duration":0,"causeForRecordClosing":"event","listOfMultipleUnitUsage":[{"ratingGroup":100,"serviceSpecificUnits":1,"amount":"0.09","currency":"EUR"}],"smsChargingInformation":{"recipient":"491719876543","messageType":"SUBMISSION"}}
}

func ExampleWriter() {
	dir, _ := os.MkdirTemp("", "cdr")
	defer os.RemoveAll(dir)
	clock := func() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC) }

	w, err := cdr.NewWriter(cdr.Config{Dir: dir, Now: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }() // the server's errgroup owns this goroutine

	at := clock()
	err = w.Write(ctx, &cdr.Record{
		RecordType: cdr.RecordFinal, RecordingNetworkFunctionID: "chf-1", ChargingDataRef: "s1", RecordSequenceNumber: 2,
		SubscriberIdentifier: "imsi-001010123456789", AccountID: "acc-42",
		RecordOpeningTime: at.Add(-time.Minute), RecordClosingTime: at, DurationSeconds: 60,
		CauseForRecordClosing: cdr.CauseNormalRelease,
		Usage:                 []cdr.RatingGroupUsage{{RatingGroup: 10, TotalVolume: 1 << 20, Amount: "0.0100", Currency: "EUR"}},
	})
	fmt.Println("write:", err)

	stop() // shutdown: Run writes what is queued and completes the file
	fmt.Println("run:", <-done)
	fmt.Println("close:", w.Close(context.Background()))

	files, _ := cdr.Files(dir, "chf")
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		fmt.Printf("%s: %d bytes\n", f, len(b))
	}
	// Output:
	// write: <nil>
	// run: <nil>
	// close: <nil>
	// chf-20260314T150926.000-000001.jsonl: 423 bytes
}
