package chf

import (
	"context"
	"time"

	"github.com/tollgate-billing/tollgate/internal/cdr"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// This file builds the CHF-CDRs (TS 32.298 ChargingRecord): a partial
// record when a session's open record reaches the volume or time limit, a
// final one at release or idle close, an event record per one-time event.

// partialCause says whether the session's open record must be closed now
// as a partial record, and why ("" if not).
func (s *Service) partialCause(sess *Session, now time.Time) string {
	h := s.cfg.CHF
	if lim := h.PartialRecordVolume; lim > 0 {
		var vol uint64
		for _, g := range sess.Groups {
			vol += g.Volume
		}
		if vol >= lim {
			return "volumeLimit"
		}
	}
	if lim := h.PartialRecordTime.Std(); lim > 0 && now.Sub(sess.RecordOpened) >= lim && sess.hasUsage() {
		return "timeLimit"
	}
	return ""
}

func (s *Session) hasUsage() bool {
	for _, g := range s.Groups {
		if g.hasUsage() {
			return true
		}
	}
	return false
}

// records closes the session's open record with cause and opens the next:
// the record's usage is taken out of the groups. A final cause with no
// usage still writes the record (it marks the session's end).
func (s *Service) records(sess *Session, cause string, now time.Time) []*cdr.Record {
	typ := cdr.RecordType("CHF_PARTIAL")
	if cause == "normalRelease" || cause == "sessionTimeout" || cause == "abnormalRelease" {
		typ = "CHF_FINAL"
	}
	sess.RecordSeq++
	rec := &cdr.Record{
		RecordType: typ, RecordingNetworkFunctionID: s.cfg.NodeID, ChargingDataRef: sess.Ref,
		RecordSequenceNumber: sess.RecordSeq, SubscriberIdentifier: sess.SUPI, GPSI: sess.GPSI,
		AccountID: sess.AccountID, PlanID: sess.PlanID, NFConsumerName: sess.NFName, NFFunctionality: sess.NFFunction,
		ChargingID: sess.ChargingID, DNN: sess.DNN, RATType: sess.RATType,
		RecordOpeningTime: sess.RecordOpened, RecordClosingTime: now, CauseForRecordClosing: cause,
	}
	if d := now.Sub(sess.RecordOpened); d > 0 {
		rec.DurationSeconds = uint64(d / time.Second)
	}
	for _, g := range sess.Groups {
		if g.hasUsage() {
			rec.Usage = append(rec.Usage, s.usage(g, sess.Currency))
			g.resetUsage()
		}
	}
	sess.RecordOpened = now
	return []*cdr.Record{rec}
}

// usage is a group's usage as a CDR container.
func (s *Service) usage(g *Group, cur money.Currency) cdr.RatingGroupUsage {
	rg := s.groups[g.RG]
	u := cdr.RatingGroupUsage{
		RatingGroup: g.RG, Service: rg.Service, UplinkVolume: g.Uplink, DownlinkVolume: g.Downlink,
		TotalVolume: g.Volume, Time: g.Time, ServiceSpecificUnits: g.Units, FirstUsage: g.First, LastUsage: g.Last,
		LocalSequenceNumbers: append([]uint64(nil), g.LSNs...), Amount: g.Amount.String(), Currency: cur.Code,
		Offline: rg.Offline,
	}
	if !g.Unbilled.IsZero() {
		u.Unbilled = g.Unbilled.String()
	}
	return u
}

// eventRecord is the record of a one-time event (its usage added by the caller).
func (s *Service) eventRecord(ref string, req *nchf.ChargingDataRequest, sub Subscription, now time.Time) *cdr.Record {
	at := req.InvocationTimeStamp
	if at.IsZero() {
		at = now
	}
	rec := &cdr.Record{
		RecordType: "CHF_EVENT", RecordingNetworkFunctionID: s.cfg.NodeID, ChargingDataRef: ref, RecordSequenceNumber: 1,
		SubscriberIdentifier: sub.SUPI, GPSI: sub.GPSI, AccountID: sub.AccountID, PlanID: sub.PlanID,
		NFConsumerName: req.NfConsumerIdentification.NFName, NFFunctionality: string(req.NfConsumerIdentification.NodeFunctionality),
		RecordOpeningTime: at, RecordClosingTime: at, CauseForRecordClosing: "event",
	}
	if sms := req.SMSChargingInformation; sms != nil {
		info := &cdr.SMSInfo{SMSCAddress: sms.SMSCAddress, MessageType: string(sms.SMMessageType), MessageSize: sms.MessageSize}
		if o := sms.OriginatorInfo; o != nil {
			info.Originator = firstNonEmpty(o.OriginatorGPSI, o.OriginatorSUPI)
		}
		if len(sms.RecipientInfo) > 0 {
			r := sms.RecipientInfo[0]
			info.Recipient = firstNonEmpty(r.RecipientGPSI, r.RecipientSUPI)
			if info.Recipient == "" && r.RecipientOtherAddress != nil {
				info.Recipient = r.RecipientOtherAddress.SMaddressData
			}
		}
		rec.SMS = info
	}
	return rec
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// emit hands a record to the CDR writer. The writer queues it and writes
// it off the request path; a record it refuses is logged and counted.
func (s *Service) emit(ctx context.Context, rec *cdr.Record) {
	if s.cfg.Records == nil {
		return
	}
	if err := s.cfg.Records.Write(ctx, rec); err != nil {
		s.m.records.WithLabelValues(string(rec.RecordType), "error").Inc()
		s.cfg.Logger.Error("CHF-CDR not written", "ref", rec.ChargingDataRef, "type", rec.RecordType, "err", err)
		return
	}
	s.m.records.WithLabelValues(string(rec.RecordType), "ok").Inc()
}
