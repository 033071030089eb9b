package chf_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/free5gc/openapi/Nchf_ConvergedCharging"
	"github.com/free5gc/openapi/models"

	"github.com/tollgate-billing/tollgate/internal/account"
)

// TestFree5GCClient drives the CHF with the Nchf client and models of
// github.com/free5gc/openapi v1.0.8 — what free5GC's SMF uses, over its own
// HTTP/2 cleartext transport — through a create, an update and a release.
func TestFree5GCClient(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("f5gc", "208930000000003", "20.00", account.Prepaid)
	cfg := Nchf_ConvergedCharging.NewConfiguration()
	cfg.SetBasePath(e.base)
	client := Nchf_ConvergedCharging.NewAPIClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ts := time.Now()
	req := models.ChargingDataRequest{
		SubscriberIdentifier: supi,
		NfConsumerIdentification: &models.NfIdentification{
			NFName: "c8d0ee65-f466-48aa-a42f-235ec771cb52", NFIPv4Address: "10.100.200.3",
			NFPLMNID: &models.PlmnId{Mcc: "208", Mnc: "93"}, NodeFunctionality: models.NodeFunctionality_SMF,
		},
		InvocationTimeStamp: &ts, InvocationSequenceNumber: 0,
		NotifyUri: "http://10.100.200.3:8000/nsmf-callback/v1/chargingNotification/update/" + supi + "-1",
		MultipleUnitUsage: []models.MultipleUnitUsage{{
			RatingGroup: 10, RequestedUnit: &models.RequestedUnit{TotalVolume: 5 * mib},
		}},
		PDUSessionChargingInformation: &models.PduSessionChargingInformation{
			ChargingId: 1,
			PduSessionInformation: &models.PduSessionInformation{
				PduSessionID: 1, DnnId: "internet", RatType: models.RatType_NR,
				NetworkSlicingInfo: &models.NetworkSlicingInfo{SNSSAI: &models.Snssai{Sst: 1, Sd: "010203"}},
			},
		},
	}
	rsp, httpRsp, err := client.DefaultApi.ChargingdataPost(ctx, req)
	if err != nil || httpRsp.StatusCode != 201 {
		t.Fatalf("create: %v %v", err, httpRsp)
	}
	loc := httpRsp.Header.Get("Location")
	ref := loc[strings.LastIndex(loc, "/")+1:]
	if ref == "" || len(rsp.MultipleUnitInformation) != 1 || rsp.MultipleUnitInformation[0].GrantedUnit == nil ||
		rsp.MultipleUnitInformation[0].GrantedUnit.TotalVolume != 5*mib ||
		rsp.MultipleUnitInformation[0].ResultCode != models.ResultCode_SUCCESS {
		t.Fatalf("create answer: %+v (Location %q)", rsp, loc)
	}

	ts2 := ts.Add(time.Minute)
	req.InvocationTimeStamp, req.InvocationSequenceNumber = &ts2, 1
	req.MultipleUnitUsage = []models.MultipleUnitUsage{{
		RatingGroup:   10,
		RequestedUnit: &models.RequestedUnit{TotalVolume: 5 * mib},
		UsedUnitContainer: []models.UsedUnitContainer{{
			QuotaManagementIndicator: models.QuotaManagementIndicator_ONLINE_CHARGING,
			Triggers: []models.Trigger{{TriggerType: models.TriggerType_VOLUME_LIMIT,
				TriggerCategory: models.TriggerCategory_IMMEDIATE_REPORT, VolumeLimit: 5 * mib}},
			TriggerTimestamp: &ts2, UplinkVolume: mib, DownlinkVolume: 3 * mib, TotalVolume: 4 * mib, LocalSequenceNumber: 1,
		}},
	}}
	rsp, httpRsp, err = client.DefaultApi.ChargingdataChargingDataRefUpdatePost(ctx, ref, req)
	if err != nil || httpRsp.StatusCode != 200 || rsp.MultipleUnitInformation[0].GrantedUnit.TotalVolume != 5*mib {
		t.Fatalf("update: %v %v %+v", err, httpRsp, rsp)
	}

	ts3 := ts2.Add(time.Minute)
	req.InvocationTimeStamp, req.InvocationSequenceNumber = &ts3, 2
	req.MultipleUnitUsage[0].RequestedUnit = nil
	req.MultipleUnitUsage[0].UsedUnitContainer[0].TotalVolume, req.MultipleUnitUsage[0].UsedUnitContainer[0].UplinkVolume,
		req.MultipleUnitUsage[0].UsedUnitContainer[0].DownlinkVolume = 2*mib, 0, 2*mib
	req.MultipleUnitUsage[0].UsedUnitContainer[0].LocalSequenceNumber = 2
	httpRsp, err = client.DefaultApi.ChargingdataChargingDataRefReleasePost(ctx, ref, req)
	if err != nil || httpRsp.StatusCode != 204 {
		t.Fatalf("release: %v %v", err, httpRsp)
	}
	if v := e.balance("f5gc"); v.Balance.String() != "14.0000" || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s; want 20 − 6 MiB × 1.00", v.Balance, v.Held)
	}
}
