package nchf

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/free5gc/openapi/models"
)

// The interop tests speak with the models of github.com/free5gc/openapi
// v1.0.8, the Go implementation free5GC's SMF uses for Nchf: what it marshals
// must decode here with the same values, and what we encode must unmarshal
// there. Its models use int32 for volumes and counters; the tests stay within
// that range except where they show the limit.

func free5gcUpdate() models.ChargingDataRequest {
	ts := time.Date(2025, 3, 14, 9, 26, 53, 589e6, time.FixedZone("", 8*3600))
	start := ts.Add(-30 * time.Minute)
	return models.ChargingDataRequest{
		SubscriberIdentifier: "imsi-208930000000003",
		NfConsumerIdentification: &models.NfIdentification{
			NFName:            "c8d0ee65-f466-48aa-a42f-235ec771cb52",
			NFIPv4Address:     "10.100.200.3",
			NFPLMNID:          &models.PlmnId{Mcc: "208", Mnc: "93"},
			NodeFunctionality: models.NodeFunctionality_SMF,
		},
		InvocationTimeStamp:      &ts,
		InvocationSequenceNumber: 7,
		NotifyUri:                "http://10.100.200.3:8000/nsmf-callback/v1/chargingNotification/update/imsi-208930000000003-1",
		MultipleUnitUsage: []models.MultipleUnitUsage{
			{
				RatingGroup:   10,
				RequestedUnit: &models.RequestedUnit{TotalVolume: 1 << 30},
				UsedUnitContainer: []models.UsedUnitContainer{{
					QuotaManagementIndicator: models.QuotaManagementIndicator_ONLINE_CHARGING,
					Triggers: []models.Trigger{{
						TriggerType:     models.TriggerType_VOLUME_LIMIT,
						TriggerCategory: models.TriggerCategory_IMMEDIATE_REPORT,
						VolumeLimit:     1 << 30,
					}},
					TriggerTimestamp:    &ts,
					Time:                1800,
					TotalVolume:         2147483647,
					UplinkVolume:        147483647,
					DownlinkVolume:      2000000000,
					LocalSequenceNumber: 3,
				}},
				UPFID: "e1ad6d06-8c2b-4c44-9f4a-1d3b6c1f4a11",
			},
			{
				RatingGroup:   20,
				RequestedUnit: &models.RequestedUnit{Time: 3600},
				UsedUnitContainer: []models.UsedUnitContainer{{
					ServiceId:           2001,
					Triggers:            []models.Trigger{{TriggerType: models.TriggerType_VALIDITY_TIME, TriggerCategory: models.TriggerCategory_IMMEDIATE_REPORT}},
					Time:                3600,
					TotalVolume:         73400320,
					LocalSequenceNumber: 4,
				}},
			},
		},
		Triggers: []models.Trigger{{TriggerType: models.TriggerType_PLMN_CHANGE, TriggerCategory: models.TriggerCategory_DEFERRED_REPORT}},
		PDUSessionChargingInformation: &models.PduSessionChargingInformation{
			ChargingId:      1,
			UserInformation: &models.UserInformation{ServedGPSI: "msisdn-8613800138000", ServedPEI: "imeisv-4370816125816151"},
			UserLocationinfo: &models.UserLocation{NrLocation: &models.NrLocation{
				Tai:  &models.Tai{PlmnId: &models.PlmnId{Mcc: "208", Mnc: "93"}, Tac: "000001"},
				Ncgi: &models.Ncgi{PlmnId: &models.PlmnId{Mcc: "208", Mnc: "93"}, NrCellId: "000000010"},
			}},
			UetimeZone: "+08:00",
			PduSessionInformation: &models.PduSessionInformation{
				NetworkSlicingInfo:    &models.NetworkSlicingInfo{SNSSAI: &models.Snssai{Sst: 1, Sd: "010203"}},
				PduSessionID:          1,
				PduType:               models.PduSessionType_IPV4,
				SscMode:               models.SscMode__1,
				RatType:               models.RatType_NR,
				DnnId:                 "internet",
				StartTime:             &start,
				PduAddress:            &models.PduAddress{PduIPv4Address: "10.60.0.1"},
				AuthorizedSessionAMBR: &models.Ambr{Uplink: "200 Mbps", Downlink: "500 Mbps"},
			},
		},
	}
}

func TestInteropFree5gcRequest(t *testing.T) {
	in := free5gcUpdate()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var req ChargingDataRequest
	if err := DecodeChargingDataRequest(data, &req); err != nil {
		t.Fatalf("decoding free5gc's request: %v\n%s", err, data)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("subscriberIdentifier", req.SubscriberIdentifier, in.SubscriberIdentifier)
	check("nFName", req.NfConsumerIdentification.NFName, in.NfConsumerIdentification.NFName)
	check("nodeFunctionality", string(req.NfConsumerIdentification.NodeFunctionality), string(in.NfConsumerIdentification.NodeFunctionality))
	check("nFPLMNID", req.NfConsumerIdentification.NFPLMNID.Mcc+"-"+req.NfConsumerIdentification.NFPLMNID.Mnc, "208-93")
	check("invocationTimeStamp", req.InvocationTimeStamp.Equal(*in.InvocationTimeStamp), true)
	check("invocationSequenceNumber", req.InvocationSequenceNumber, uint32(in.InvocationSequenceNumber))
	check("notifyUri", req.NotifyUri, in.NotifyUri)
	check("len(multipleUnitUsage)", len(req.MultipleUnitUsage), len(in.MultipleUnitUsage))
	for i, m := range in.MultipleUnitUsage {
		g := req.MultipleUnitUsage[i]
		check("ratingGroup", g.RatingGroup, uint32(m.RatingGroup))
		check("requestedUnit.time", g.RequestedUnit.Time, uint32(m.RequestedUnit.Time))
		check("requestedUnit.totalVolume", g.RequestedUnit.TotalVolume, uint64(m.RequestedUnit.TotalVolume))
		check("uPFID", g.UPFID, m.UPFID)
		for j, u := range m.UsedUnitContainer {
			gu := g.UsedUnitContainer[j]
			check("serviceId", gu.ServiceId, uint32(u.ServiceId))
			check("quotaManagementIndicator", string(gu.QuotaManagementIndicator), string(u.QuotaManagementIndicator))
			check("time", gu.Time, uint32(u.Time))
			check("totalVolume", gu.TotalVolume, uint64(u.TotalVolume))
			check("uplinkVolume", gu.UplinkVolume, uint64(u.UplinkVolume))
			check("downlinkVolume", gu.DownlinkVolume, uint64(u.DownlinkVolume))
			check("localSequenceNumber", gu.LocalSequenceNumber, uint64(u.LocalSequenceNumber))
			if u.TriggerTimestamp != nil {
				check("triggerTimestamp", gu.TriggerTimestamp.Equal(*u.TriggerTimestamp), true)
			}
			for k, tr := range u.Triggers {
				check("triggerType", string(gu.Triggers[k].TriggerType), string(tr.TriggerType))
				check("triggerCategory", string(gu.Triggers[k].TriggerCategory), string(tr.TriggerCategory))
				check("volumeLimit", gu.Triggers[k].VolumeLimit, uint32(tr.VolumeLimit))
			}
		}
	}
	check("triggers[0]", string(req.Triggers[0].TriggerType), string(models.TriggerType_PLMN_CHANGE))
	p := req.PDUSessionChargingInformation
	check("chargingId", p.ChargingId, uint32(1))
	check("servedGPSI", p.UserInformation.ServedGPSI, "msisdn-8613800138000")
	check("userLocationinfo kept", len(p.UserLocationinfo) > 0, true)
	s := p.PduSessionInformation
	check("sNSSAI", s.NetworkSlicingInfo.SNSSAI.Sst == 1 && s.NetworkSlicingInfo.SNSSAI.Sd == "010203", true)
	check("pduSessionID", s.PduSessionID, uint8(1))
	check("pduType", string(s.PduType), "IPV4")
	check("sscMode", string(s.SscMode), "SSC_MODE_1")
	check("ratType", string(s.RatType), "NR")
	check("dnnId", s.DnnId, "internet")
	check("startTime", s.StartTime.Equal(*in.PDUSessionChargingInformation.PduSessionInformation.StartTime), true)
	check("authorizedSessionAMBR", s.AuthorizedSessionAMBR.Downlink, "500 Mbps")

	// What we do not model comes back unchanged when we re-encode, and
	// free5gc reads our encoding as the request it sent.
	var back models.ChargingDataRequest
	if err := json.Unmarshal(AppendChargingDataRequest(nil, &req), &back); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(in)
	b, _ := json.Marshal(back)
	var am, bm any
	_ = json.Unmarshal(a, &am)
	_ = json.Unmarshal(b, &bm)
	if ja, jb := mustJSON(t, am), mustJSON(t, bm); ja != jb {
		t.Errorf("free5gc → nchf → free5gc changed the request:\n%s\n%s", ja, jb)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v) // maps marshal with sorted keys: a canonical form
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInteropFree5gcSMS(t *testing.T) {
	ts := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	in := models.ChargingDataRequest{
		SubscriberIdentifier:     "imsi-460001234567890",
		NfConsumerIdentification: &models.NfIdentification{NodeFunctionality: "SMSF"}, // v1.0.8 predates SMSF (it has the old SMS),
		InvocationTimeStamp:      &ts,
		OneTimeEvent:             true,
		OneTimeEventType:         models.OneTimeEventType_IEC,
		MultipleUnitUsage:        []models.MultipleUnitUsage{{RatingGroup: 300, RequestedUnit: &models.RequestedUnit{ServiceSpecificUnits: 1}}},
		SMSChargingInformation: &models.SmsChargingInformation{
			OriginatorInfo: &models.OriginatorInfo{OriginatorGPSI: "msisdn-8613800138000"},
			RecipientInfo:  []models.RecipientInfo{{RecipientGPSI: "msisdn-8613900139000"}},
			SMMessageType:  models.SmMessageType_SUBMISSION,
			SubmissionTime: &ts,
			MessageSize:    140,
		},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var req ChargingDataRequest
	if err := DecodeChargingDataRequest(data, &req); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	s := req.SMSChargingInformation
	if !req.OneTimeEvent || req.OneTimeEventType != OneTimeEventTypeIec || req.NfConsumerIdentification.NodeFunctionality != NodeFunctionalitySmsf ||
		req.InvocationSequenceNumber != 0 || req.MultipleUnitUsage[0].RequestedUnit.ServiceSpecificUnits != 1 ||
		s == nil || s.OriginatorInfo.OriginatorGPSI != "msisdn-8613800138000" || s.RecipientInfo[0].RecipientGPSI != "msisdn-8613900139000" ||
		s.SMMessageType != SMMessageTypeSubmission || !s.SubmissionTime.Equal(ts) || s.MessageSize != 140 {
		t.Errorf("SMS event decoded wrongly: %+v %+v", req, s)
	}
}

func TestInteropFree5gcResponse(t *testing.T) {
	resp := sampleResponse()
	resp.MultipleUnitInformation[0].GrantedUnit.TotalVolume = 1 << 30 // int32 in free5gc
	resp.MultipleUnitInformation[0].VolumeQuotaThreshold = 1 << 28
	resp.MultipleUnitInformation[0].Triggers[1].VolumeLimit64 = 1 << 30
	resp.InvocationResult = &InvocationResult{Error: ptr(QuotaLimitReached("x")), FailureHandling: FailureHandlingContinue}
	var got models.ChargingDataResponse
	if err := json.Unmarshal(AppendChargingDataResponse(nil, resp), &got); err != nil {
		t.Fatal(err)
	}
	if !got.InvocationTimeStamp.Equal(resp.InvocationTimeStamp) || got.InvocationSequenceNumber != 7 ||
		got.SessionFailover != models.SessionFailover_SUPPORTED || len(got.MultipleUnitInformation) != 3 ||
		got.InvocationResult.Error.Cause != CauseQuotaLimitReached || got.InvocationResult.Error.Status != 403 {
		t.Fatalf("free5gc reads %+v", got)
	}
	m := got.MultipleUnitInformation
	if m[0].ResultCode != models.ResultCode_SUCCESS || m[0].RatingGroup != 10 || m[0].GrantedUnit.TotalVolume != 1<<30 ||
		m[0].ValidityTime != 3600 || m[0].QuotaHoldingTime != 300 || m[0].VolumeQuotaThreshold != 1<<28 ||
		m[0].Triggers[1].TriggerType != models.TriggerType_VOLUME_LIMIT || m[0].Triggers[1].VolumeLimit64 != 1<<30 {
		t.Errorf("rating group 10: %+v", m[0])
	}
	if m[1].GrantedUnit.Time != 1800 || m[1].FinalUnitIndication.FinalUnitAction != models.FinalUnitAction_REDIRECT ||
		m[1].FinalUnitIndication.RedirectServer.RedirectServerAddress != resp.MultipleUnitInformation[1].FinalUnitIndication.RedirectServer.RedirectServerAddress ||
		!m[1].GrantedUnit.TariffTimeChange.Equal(resp.MultipleUnitInformation[1].GrantedUnit.TariffTimeChange) {
		t.Errorf("rating group 20: %+v", m[1])
	}
	if m[2].ResultCode != models.ResultCode_QUOTA_LIMIT_REACHED || m[2].FinalUnitIndication.FinalUnitAction != models.FinalUnitAction_RESTRICT_ACCESS {
		t.Errorf("rating group 30: %+v", m[2])
	}

	// The reason this package does not use those models: a grant beyond
	// 2 GiB does not fit their int32.
	big := &ChargingDataResponse{InvocationTimeStamp: resp.InvocationTimeStamp,
		MultipleUnitInformation: []MultipleUnitInformation{{RatingGroup: 10, GrantedUnit: &GrantedUnit{TotalVolume: 5 << 30}}}}
	if err := json.Unmarshal(AppendChargingDataResponse(nil, big), &got); err == nil {
		t.Errorf("free5gc v1.0.8 accepted a 5 GiB grant; its volumes are no longer int32?")
	}
}

func TestInteropFree5gcNotifyAndProblem(t *testing.T) {
	n := &ChargingNotifyRequest{NotificationType: NotificationTypeReauthorization,
		ReauthorizationDetails: []ReauthorizationDetails{{RatingGroup: 10, QuotaManagementIndicator: QuotaManagementIndicatorOnlineCharging}}}
	var fn models.ChargingNotifyRequest
	if err := json.Unmarshal(AppendChargingNotifyRequest(nil, n), &fn); err != nil {
		t.Fatal(err)
	}
	if fn.NotificationType != models.NotificationType_REAUTHORIZATION || len(fn.ReauthorizationDetails) != 1 || fn.ReauthorizationDetails[0].RatingGroup != 10 {
		t.Errorf("free5gc reads %+v", fn)
	}
	// free5gc's answer to a notification decodes here.
	data, _ := json.Marshal(models.ChargingNotifyResponse{InvocationResult: &models.InvocationResult{FailureHandling: models.FailureHandling_TERMINATE}})
	var nr ChargingNotifyResponse
	if err := DecodeChargingNotifyResponse(data, &nr); err != nil || nr.InvocationResult.FailureHandling != FailureHandlingTerminate {
		t.Errorf("%v %+v (%s)", err, nr, data)
	}

	var req ChargingDataRequest
	pd := ProblemOf(DecodeChargingDataRequest([]byte(`{"invocationTimeStamp":"2025-01-01T00:00:00Z"}`), &req))
	var fp models.ProblemDetails
	if err := json.Unmarshal(AppendProblemDetails(nil, &pd), &fp); err != nil {
		t.Fatal(err)
	}
	if fp.Status != 400 || fp.Cause != CauseMandatoryIEMissing || len(fp.InvalidParams) != 1 || fp.InvalidParams[0].Param != "/nfConsumerIdentification" {
		t.Errorf("free5gc reads %+v", fp)
	}
}
