package nchf

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Encoders append compact JSON to dst and return the extended slice, so that
// a server can reuse one buffer per connection. Members are written in the
// order of the 3GPP schema; optional members at their zero value are omitted
// (mandatory ones are always written); Extra members follow the modelled
// ones, verbatim. Strings are escaped as by encoding/json (without HTML
// escaping); invalid UTF-8 becomes U+FFFD.

// AppendChargingDataResponse appends the JSON of resp to dst.
func AppendChargingDataResponse(dst []byte, r *ChargingDataResponse) []byte {
	b := append(dst, '{')
	b = append(b, `"invocationTimeStamp":`...)
	b = appendTime(b, r.InvocationTimeStamp)
	b = append(b, `,"invocationSequenceNumber":`...)
	b = strconv.AppendUint(b, uint64(r.InvocationSequenceNumber), 10)
	if r.InvocationResult != nil {
		b = append(b, `,"invocationResult":`...)
		b = appendInvocationResult(b, r.InvocationResult)
	}
	b = fStr(b, `"sessionFailover":`, string(r.SessionFailover))
	b = fStr(b, `"supportedFeatures":`, r.SupportedFeatures)
	if len(r.MultipleUnitInformation) > 0 {
		b = append(b, `,"multipleUnitInformation":[`...)
		for i := range r.MultipleUnitInformation {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMultipleUnitInformation(b, &r.MultipleUnitInformation[i])
		}
		b = append(b, ']')
	}
	b = fTriggers(b, `"triggers":`, r.Triggers)
	if r.PDUSessionChargingInformation != nil {
		b = append(b, `,"pDUSessionChargingInformation":`...)
		b = appendPDUSessionChargingInformation(b, r.PDUSessionChargingInformation)
	}
	b = appendExtra(b, r.Extra)
	return append(b, '}')
}

// AppendChargingDataRequest appends the JSON of req to dst (the consumer
// side: load generators, tests).
func AppendChargingDataRequest(dst []byte, r *ChargingDataRequest) []byte {
	b := append(dst, '{')
	n := len(b)
	b = fStr(b, `"subscriberIdentifier":`, r.SubscriberIdentifier)
	b = fStr(b, `"tenantIdentifier":`, r.TenantIdentifier)
	b = fU64(b, `"chargingId":`, uint64(r.ChargingId))
	b = fStr(b, `"mnSConsumerIdentifier":`, r.MnSConsumerIdentifier)
	if len(b) > n {
		b = append(b, ',')
	}
	b = append(b, `"nfConsumerIdentification":`...)
	b = appendNFIdentification(b, &r.NfConsumerIdentification)
	b = append(b, `,"invocationTimeStamp":`...)
	b = appendTime(b, r.InvocationTimeStamp)
	b = append(b, `,"invocationSequenceNumber":`...)
	b = strconv.AppendUint(b, uint64(r.InvocationSequenceNumber), 10)
	b = fBool(b, `"retransmissionIndicator":`, r.RetransmissionIndicator)
	b = fBool(b, `"oneTimeEvent":`, r.OneTimeEvent)
	b = fStr(b, `"oneTimeEventType":`, string(r.OneTimeEventType))
	b = fStr(b, `"notifyUri":`, r.NotifyUri)
	b = fStr(b, `"supportedFeatures":`, r.SupportedFeatures)
	b = fStr(b, `"serviceSpecificationInfo":`, r.ServiceSpecificationInfo)
	if len(r.MultipleUnitUsage) > 0 {
		b = append(b, `,"multipleUnitUsage":[`...)
		for i := range r.MultipleUnitUsage {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMultipleUnitUsage(b, &r.MultipleUnitUsage[i])
		}
		b = append(b, ']')
	}
	b = fTriggers(b, `"triggers":`, r.Triggers)
	b = fStr(b, `"aMFId":`, r.AMFId)
	if r.PDUSessionChargingInformation != nil {
		b = append(b, `,"pDUSessionChargingInformation":`...)
		b = appendPDUSessionChargingInformation(b, r.PDUSessionChargingInformation)
	}
	if r.SMSChargingInformation != nil {
		b = append(b, `,"sMSChargingInformation":`...)
		b = appendSMSChargingInformation(b, r.SMSChargingInformation)
	}
	b = appendExtra(b, r.Extra)
	return append(b, '}')
}

// AppendChargingNotifyRequest appends the JSON of n to dst.
func AppendChargingNotifyRequest(dst []byte, n *ChargingNotifyRequest) []byte {
	b := append(dst, `{"notificationType":`...)
	b = appendString(b, string(n.NotificationType))
	if len(n.ReauthorizationDetails) > 0 {
		b = append(b, `,"reauthorizationDetails":[`...)
		for i := range n.ReauthorizationDetails {
			if i > 0 {
				b = append(b, ',')
			}
			x := &n.ReauthorizationDetails[i]
			b = append(b, '{')
			b = fU64(b, `"serviceId":`, uint64(x.ServiceId))
			b = fU64(b, `"ratingGroup":`, uint64(x.RatingGroup))
			b = fStr(b, `"quotaManagementIndicator":`, string(x.QuotaManagementIndicator))
			b = appendExtra(b, x.Extra)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendExtra(b, n.Extra)
	return append(b, '}')
}

// AppendChargingNotifyResponse appends the JSON of n to dst.
func AppendChargingNotifyResponse(dst []byte, n *ChargingNotifyResponse) []byte {
	b := append(dst, '{')
	if n.InvocationResult != nil {
		b = append(b, `"invocationResult":`...)
		b = appendInvocationResult(b, n.InvocationResult)
	}
	b = appendExtra(b, n.Extra)
	return append(b, '}')
}

// AppendProblemDetails appends the JSON of p to dst (media type
// application/problem+json).
func AppendProblemDetails(dst []byte, p *ProblemDetails) []byte {
	b := append(dst, '{')
	b = fStr(b, `"type":`, p.Type)
	b = fStr(b, `"title":`, p.Title)
	if p.Status != 0 {
		b = key(b, `"status":`)
		b = strconv.AppendInt(b, int64(p.Status), 10)
	}
	b = fStr(b, `"detail":`, p.Detail)
	b = fStr(b, `"instance":`, p.Instance)
	b = fStr(b, `"cause":`, p.Cause)
	if len(p.InvalidParams) > 0 {
		b = key(b, `"invalidParams":[`)
		for i := range p.InvalidParams {
			if i > 0 {
				b = append(b, ',')
			}
			x := &p.InvalidParams[i]
			b = append(b, `{"param":`...)
			b = appendString(b, x.Param)
			b = fStr(b, `"reason":`, x.Reason)
			b = appendExtra(b, x.Extra)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = fStr(b, `"supportedFeatures":`, p.SupportedFeatures)
	b = fStr(b, `"nrfId":`, p.NrfId)
	b = fStrs(b, `"supportedApiVersions":`, p.SupportedApiVersions)
	b = appendExtra(b, p.Extra)
	return append(b, '}')
}

func appendInvocationResult(b []byte, r *InvocationResult) []byte {
	b = append(b, '{')
	if r.Error != nil {
		b = append(b, `"error":`...)
		b = AppendProblemDetails(b, r.Error)
	}
	b = fStr(b, `"failureHandling":`, string(r.FailureHandling))
	b = appendExtra(b, r.Extra)
	return append(b, '}')
}

func appendNFIdentification(b []byte, n *NFIdentification) []byte {
	b = append(b, '{')
	b = fStr(b, `"nFName":`, n.NFName)
	b = fStr(b, `"nFIPv4Address":`, n.NFIPv4Address)
	b = fStr(b, `"nFIPv6Address":`, n.NFIPv6Address)
	if n.NFPLMNID != nil {
		b = key(b, `"nFPLMNID":`)
		b = appendPlmnID(b, n.NFPLMNID)
	}
	b = key(b, `"nodeFunctionality":`)
	b = appendString(b, string(n.NodeFunctionality))
	b = fStr(b, `"nFFqdn":`, n.NFFqdn)
	b = appendExtra(b, n.Extra)
	return append(b, '}')
}

func appendPlmnID(b []byte, p *PlmnId) []byte {
	b = append(b, `{"mcc":`...)
	b = appendString(b, p.Mcc)
	b = append(b, `,"mnc":`...)
	b = appendString(b, p.Mnc)
	b = appendExtra(b, p.Extra)
	return append(b, '}')
}

func appendSnssai(b []byte, s *Snssai) []byte {
	b = append(b, `{"sst":`...)
	b = strconv.AppendUint(b, uint64(s.Sst), 10)
	b = fStr(b, `"sd":`, s.Sd)
	b = appendExtra(b, s.Extra)
	return append(b, '}')
}

func fAmbr(b []byte, k string, a *Ambr) []byte {
	if a == nil {
		return b
	}
	b = key(b, k)
	b = append(b, `{"uplink":`...)
	b = appendString(b, a.Uplink)
	b = append(b, `,"downlink":`...)
	b = appendString(b, a.Downlink)
	b = appendExtra(b, a.Extra)
	return append(b, '}')
}

func appendMultipleUnitUsage(b []byte, m *MultipleUnitUsage) []byte {
	b = append(b, `{"ratingGroup":`...)
	b = strconv.AppendUint(b, uint64(m.RatingGroup), 10)
	if u := m.RequestedUnit; u != nil {
		b = append(b, `,"requestedUnit":{`...)
		b = fU64(b, `"time":`, uint64(u.Time))
		b = fU64(b, `"totalVolume":`, u.TotalVolume)
		b = fU64(b, `"uplinkVolume":`, u.UplinkVolume)
		b = fU64(b, `"downlinkVolume":`, u.DownlinkVolume)
		b = fU64(b, `"serviceSpecificUnits":`, u.ServiceSpecificUnits)
		b = appendExtra(b, u.Extra)
		b = append(b, '}')
	}
	if len(m.UsedUnitContainer) > 0 {
		b = append(b, `,"usedUnitContainer":[`...)
		for i := range m.UsedUnitContainer {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendUsedUnitContainer(b, &m.UsedUnitContainer[i])
		}
		b = append(b, ']')
	}
	b = fStr(b, `"uPFID":`, m.UPFID)
	b = appendExtra(b, m.Extra)
	return append(b, '}')
}

func appendUsedUnitContainer(b []byte, u *UsedUnitContainer) []byte {
	b = append(b, '{')
	b = fU64(b, `"serviceId":`, uint64(u.ServiceId))
	b = fStr(b, `"quotaManagementIndicator":`, string(u.QuotaManagementIndicator))
	b = fTriggers(b, `"triggers":`, u.Triggers)
	b = fTime(b, `"triggerTimestamp":`, u.TriggerTimestamp)
	b = fU64(b, `"time":`, uint64(u.Time))
	b = fU64(b, `"totalVolume":`, u.TotalVolume)
	b = fU64(b, `"uplinkVolume":`, u.UplinkVolume)
	b = fU64(b, `"downlinkVolume":`, u.DownlinkVolume)
	b = fU64(b, `"serviceSpecificUnits":`, u.ServiceSpecificUnits)
	if len(u.EventTimeStamps) > 0 {
		b = key(b, `"eventTimeStamps":[`)
		for i, t := range u.EventTimeStamps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTime(b, t)
		}
		b = append(b, ']')
	}
	b = key(b, `"localSequenceNumber":`)
	b = strconv.AppendUint(b, u.LocalSequenceNumber, 10)
	b = appendExtra(b, u.Extra)
	return append(b, '}')
}

func fTriggers(b []byte, k string, ts []Trigger) []byte {
	if len(ts) == 0 {
		return b
	}
	b = key(b, k)
	b = append(b, '[')
	for i := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		t := &ts[i]
		b = append(b, '{')
		b = fStr(b, `"triggerType":`, string(t.TriggerType))
		b = key(b, `"triggerCategory":`)
		b = appendString(b, string(t.TriggerCategory))
		b = fI64(b, `"timeLimit":`, t.TimeLimit)
		b = fU64(b, `"volumeLimit":`, uint64(t.VolumeLimit))
		b = fU64(b, `"volumeLimit64":`, t.VolumeLimit64)
		b = fU64(b, `"eventLimit":`, uint64(t.EventLimit))
		b = fU64(b, `"maxNumberOfccc":`, uint64(t.MaxNumberOfccc))
		b = fTime(b, `"tariffTimeChange":`, t.TariffTimeChange)
		b = appendExtra(b, t.Extra)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendMultipleUnitInformation(b []byte, m *MultipleUnitInformation) []byte {
	b = append(b, '{')
	b = fStr(b, `"resultCode":`, string(m.ResultCode))
	b = key(b, `"ratingGroup":`)
	b = strconv.AppendUint(b, uint64(m.RatingGroup), 10)
	if g := m.GrantedUnit; g != nil {
		b = append(b, `,"grantedUnit":{`...)
		b = fTime(b, `"tariffTimeChange":`, g.TariffTimeChange)
		b = fU64(b, `"time":`, uint64(g.Time))
		b = fU64(b, `"totalVolume":`, g.TotalVolume)
		b = fU64(b, `"uplinkVolume":`, g.UplinkVolume)
		b = fU64(b, `"downlinkVolume":`, g.DownlinkVolume)
		b = fU64(b, `"serviceSpecificUnits":`, g.ServiceSpecificUnits)
		b = appendExtra(b, g.Extra)
		b = append(b, '}')
	}
	b = fTriggers(b, `"triggers":`, m.Triggers)
	b = fI64(b, `"validityTime":`, m.ValidityTime)
	b = fI64(b, `"quotaHoldingTime":`, m.QuotaHoldingTime)
	if f := m.FinalUnitIndication; f != nil {
		b = append(b, `,"finalUnitIndication":{"finalUnitAction":`...)
		b = appendString(b, string(f.FinalUnitAction))
		b = fStr(b, `"restrictionFilterRule":`, f.RestrictionFilterRule)
		b = fStrs(b, `"restrictionFilterRuleList":`, f.RestrictionFilterRuleList)
		b = fStr(b, `"filterId":`, f.FilterId)
		b = fStrs(b, `"filterIdList":`, f.FilterIdList)
		if r := f.RedirectServer; r != nil {
			b = append(b, `,"redirectServer":{"redirectAddressType":`...)
			b = appendString(b, string(r.RedirectAddressType))
			b = append(b, `,"redirectServerAddress":`...)
			b = appendString(b, r.RedirectServerAddress)
			b = appendExtra(b, r.Extra)
			b = append(b, '}')
		}
		b = appendExtra(b, f.Extra)
		b = append(b, '}')
	}
	b = fU64(b, `"timeQuotaThreshold":`, m.TimeQuotaThreshold)
	b = fU64(b, `"volumeQuotaThreshold":`, m.VolumeQuotaThreshold)
	b = fU64(b, `"unitQuotaThreshold":`, m.UnitQuotaThreshold)
	b = fStr(b, `"uPFID":`, m.UPFID)
	b = appendExtra(b, m.Extra)
	return append(b, '}')
}

func appendPDUSessionChargingInformation(b []byte, p *PDUSessionChargingInformation) []byte {
	b = append(b, '{')
	b = fU64(b, `"chargingId":`, uint64(p.ChargingId))
	b = fStr(b, `"sMFchargingId":`, p.SMFchargingId)
	b = fU64(b, `"homeProvidedChargingId":`, uint64(p.HomeProvidedChargingId))
	b = fStr(b, `"sMFHomeProvidedChargingId":`, p.SMFHomeProvidedChargingId)
	if u := p.UserInformation; u != nil {
		b = key(b, `"userInformation":{`)
		b = fStr(b, `"servedGPSI":`, u.ServedGPSI)
		b = fStr(b, `"servedPEI":`, u.ServedPEI)
		b = fBool(b, `"unauthenticatedFlag":`, u.UnauthenticatedFlag)
		b = fStr(b, `"roamerInOut":`, string(u.RoamerInOut))
		b = appendExtra(b, u.Extra)
		b = append(b, '}')
	}
	b = fRaw(b, `"userLocationinfo":`, p.UserLocationinfo)
	b = fStr(b, `"uetimeZone":`, p.UetimeZone)
	if s := p.PduSessionInformation; s != nil {
		b = key(b, `"pduSessionInformation":`)
		b = appendPDUSessionInformation(b, s)
	}
	b = fI64(b, `"unitCountInactivityTimer":`, p.UnitCountInactivityTimer)
	b = appendExtra(b, p.Extra)
	return append(b, '}')
}

func appendPDUSessionInformation(b []byte, p *PDUSessionInformation) []byte {
	b = append(b, '{')
	if n := p.NetworkSlicingInfo; n != nil {
		b = append(b, `"networkSlicingInfo":{"sNSSAI":`...)
		b = appendSnssai(b, &n.SNSSAI)
		if n.HPlmnSNSSAI != nil {
			b = append(b, `,"hPlmnSNSSAI":`...)
			b = appendSnssai(b, n.HPlmnSNSSAI)
		}
		b = appendExtra(b, n.Extra)
		b = append(b, '}')
	}
	b = key(b, `"pduSessionID":`)
	b = strconv.AppendUint(b, uint64(p.PduSessionID), 10)
	b = fStr(b, `"pduType":`, string(p.PduType))
	b = fStr(b, `"sscMode":`, string(p.SscMode))
	if p.HPlmnId != nil {
		b = append(b, `,"hPlmnId":`...)
		b = appendPlmnID(b, p.HPlmnId)
	}
	if s := p.ServingNetworkFunctionID; s != nil {
		b = append(b, `,"servingNetworkFunctionID":{"servingNetworkFunctionInformation":`...)
		b = appendNFIdentification(b, &s.ServingNetworkFunctionInformation)
		b = fStr(b, `"aMFId":`, s.AMFId)
		b = appendExtra(b, s.Extra)
		b = append(b, '}')
	}
	b = fStr(b, `"ratType":`, string(p.RatType))
	b = append(b, `,"dnnId":`...)
	b = appendString(b, p.DnnId)
	b = fStr(b, `"dnnSelectionMode":`, string(p.DnnSelectionMode))
	b = fStr(b, `"chargingCharacteristics":`, p.ChargingCharacteristics)
	b = fStr(b, `"chargingCharacteristicsSelectionMode":`, string(p.ChargingCharacteristicsSelectionMode))
	b = fTime(b, `"startTime":`, p.StartTime)
	b = fTime(b, `"stopTime":`, p.StopTime)
	b = fBool(b, `"sessionStopIndicator":`, p.SessionStopIndicator)
	if a := p.PduAddress; a != nil {
		b = append(b, `,"pduAddress":{`...)
		b = fStr(b, `"pduIPv4Address":`, a.PduIPv4Address)
		b = fStr(b, `"pduIPv6AddresswithPrefix":`, a.PduIPv6AddresswithPrefix)
		b = fU64(b, `"pduAddressprefixlength":`, a.PduAddressprefixlength)
		b = fBool(b, `"iPv4dynamicAddressFlag":`, a.IPv4dynamicAddressFlag)
		b = fBool(b, `"iPv6dynamicPrefixFlag":`, a.IPv6dynamicPrefixFlag)
		b = fStr(b, `"addIpv6AddrPrefixes":`, a.AddIpv6AddrPrefixes)
		b = fStrs(b, `"addIpv6AddrPrefixList":`, a.AddIpv6AddrPrefixList)
		b = appendExtra(b, a.Extra)
		b = append(b, '}')
	}
	b = fAmbr(b, `"authorizedSessionAMBR":`, p.AuthorizedSessionAMBR)
	b = fAmbr(b, `"subscribedSessionAMBR":`, p.SubscribedSessionAMBR)
	if p.ServingCNPlmnId != nil {
		b = append(b, `,"servingCNPlmnId":`...)
		b = appendPlmnID(b, p.ServingCNPlmnId)
	}
	b = appendExtra(b, p.Extra)
	return append(b, '}')
}

func appendSMSChargingInformation(b []byte, s *SMSChargingInformation) []byte {
	b = append(b, '{')
	if o := s.OriginatorInfo; o != nil {
		b = append(b, `"originatorInfo":{`...)
		b = fStr(b, `"originatorSUPI":`, o.OriginatorSUPI)
		b = fStr(b, `"originatorGPSI":`, o.OriginatorGPSI)
		b = fSMAddressInfo(b, `"originatorOtherAddress":`, o.OriginatorOtherAddress)
		b = fSMAddressInfo(b, `"originatorReceivedAddress":`, o.OriginatorReceivedAddress)
		b = fStr(b, `"originatorSCCPAddress":`, o.OriginatorSCCPAddress)
		b = fSMInterface(b, `"sMOriginatorInterface":`, o.SMOriginatorInterface)
		b = fStr(b, `"sMOriginatorProtocolId":`, o.SMOriginatorProtocolId)
		b = appendExtra(b, o.Extra)
		b = append(b, '}')
	}
	if len(s.RecipientInfo) > 0 {
		b = key(b, `"recipientInfo":[`)
		for i := range s.RecipientInfo {
			if i > 0 {
				b = append(b, ',')
			}
			r := &s.RecipientInfo[i]
			b = append(b, '{')
			b = fStr(b, `"recipientSUPI":`, r.RecipientSUPI)
			b = fStr(b, `"recipientGPSI":`, r.RecipientGPSI)
			b = fSMAddressInfo(b, `"recipientOtherAddress":`, r.RecipientOtherAddress)
			b = fSMAddressInfo(b, `"recipientReceivedAddress":`, r.RecipientReceivedAddress)
			b = fStr(b, `"recipientSCCPAddress":`, r.RecipientSCCPAddress)
			b = fSMInterface(b, `"sMDestinationInterface":`, r.SMDestinationInterface)
			b = fStr(b, `"sMrecipientProtocolId":`, r.SMrecipientProtocolId)
			b = appendExtra(b, r.Extra)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = fStr(b, `"userEquipmentInfo":`, s.UserEquipmentInfo)
	b = fStr(b, `"roamerInOut":`, string(s.RoamerInOut))
	b = fRaw(b, `"userLocationinfo":`, s.UserLocationinfo)
	b = fStr(b, `"uetimeZone":`, s.UetimeZone)
	b = fStr(b, `"rATType":`, string(s.RATType))
	b = fStr(b, `"sMSCAddress":`, s.SMSCAddress)
	b = fI64(b, `"sMDataCodingScheme":`, s.SMDataCodingScheme)
	b = fStr(b, `"sMMessageType":`, string(s.SMMessageType))
	b = fStr(b, `"sMReplyPathRequested":`, string(s.SMReplyPathRequested))
	b = fStr(b, `"sMUserDataHeader":`, s.SMUserDataHeader)
	b = fStr(b, `"sMStatus":`, s.SMStatus)
	b = fTime(b, `"sMDischargeTime":`, s.SMDischargeTime)
	b = fU64(b, `"numberofMessagesSent":`, uint64(s.NumberofMessagesSent))
	b = fStr(b, `"sMServiceType":`, string(s.SMServiceType))
	b = fU64(b, `"sMSequenceNumber":`, uint64(s.SMSequenceNumber))
	b = fU64(b, `"sMSresult":`, uint64(s.SMSresult))
	b = fTime(b, `"submissionTime":`, s.SubmissionTime)
	b = fStr(b, `"sMPriority":`, string(s.SMPriority))
	b = fStr(b, `"messageReference":`, s.MessageReference)
	b = fU64(b, `"messageSize":`, uint64(s.MessageSize))
	if m := s.MessageClass; m != nil {
		b = key(b, `"messageClass":{`)
		b = fStr(b, `"classIdentifier":`, string(m.ClassIdentifier))
		b = fStr(b, `"tokenText":`, m.TokenText)
		b = appendExtra(b, m.Extra)
		b = append(b, '}')
	}
	b = fStr(b, `"deliveryReportRequested":`, string(s.DeliveryReportRequested))
	b = appendExtra(b, s.Extra)
	return append(b, '}')
}

func fSMAddressInfo(b []byte, k string, a *SMAddressInfo) []byte {
	if a == nil {
		return b
	}
	b = key(b, k)
	b = append(b, '{')
	b = fStr(b, `"sMaddressType":`, string(a.SMaddressType))
	b = fStr(b, `"sMaddressData":`, a.SMaddressData)
	if m := a.SMaddressDomain; m != nil {
		b = key(b, `"sMaddressDomain":{`)
		b = fStr(b, `"domainName":`, m.DomainName)
		b = fStr(b, `"3GPPIMSIMCCMNC":`, m.ThreeGPPIMSIMCCMNC)
		b = appendExtra(b, m.Extra)
		b = append(b, '}')
	}
	b = appendExtra(b, a.Extra)
	return append(b, '}')
}

func fSMInterface(b []byte, k string, s *SMInterface) []byte {
	if s == nil {
		return b
	}
	b = key(b, k)
	b = append(b, '{')
	b = fStr(b, `"interfaceId":`, s.InterfaceId)
	b = fStr(b, `"interfaceText":`, s.InterfaceText)
	b = fStr(b, `"interfacePort":`, s.InterfacePort)
	b = fStr(b, `"interfaceType":`, string(s.InterfaceType))
	b = appendExtra(b, s.Extra)
	return append(b, '}')
}

// key appends a member name (given with its quotes and colon), preceded by a
// comma unless it is the first member of the object.
func key(b []byte, k string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	return append(b, k...)
}

func fStr(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(key(b, k), v)
}

func fStrs(b []byte, k string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = key(b, k)
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func fU64(b []byte, k string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(key(b, k), v, 10)
}

func fI64(b []byte, k string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(key(b, k), v, 10)
}

func fBool(b []byte, k string, v bool) []byte {
	if !v {
		return b
	}
	return append(key(b, k), "true"...)
}

func fTime(b []byte, k string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return appendTime(key(b, k), t)
}

func fRaw(b []byte, k string, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return append(key(b, k), v...)
}

// appendTime writes an RFC 3339 date-time with the fraction it needs.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendExtra(b []byte, extra []RawMember) []byte {
	for i := range extra {
		b = key(b, "")
		b = appendString(b, extra[i].Name)
		b = append(b, ':')
		b = append(b, extra[i].Value...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
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
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
