package nchf

// Decoders of the modelled types. Each reads one object, sends members it
// does not model to Extra, and then checks the mandatory members (the YAML's
// "required") with a bit set.

// DecodeChargingDataRequest decodes a create, update or release body with the
// default Limits. On error req holds what was decoded so far and the error is
// a *DecodeError.
func DecodeChargingDataRequest(data []byte, req *ChargingDataRequest) error {
	return Decoder{}.DecodeChargingDataRequest(data, req)
}

// DecodeChargingDataResponse decodes a ChargingDataResponse with the default
// Limits (the consumer side: load generators, interop tests).
func DecodeChargingDataResponse(data []byte, resp *ChargingDataResponse) error {
	return Decoder{}.DecodeChargingDataResponse(data, resp)
}

// DecodeChargingNotifyRequest decodes a ChargingNotifyRequest with the
// default Limits.
func DecodeChargingNotifyRequest(data []byte, n *ChargingNotifyRequest) error {
	return Decoder{}.DecodeChargingNotifyRequest(data, n)
}

// DecodeChargingNotifyResponse decodes a ChargingNotifyResponse with the
// default Limits.
func DecodeChargingNotifyResponse(data []byte, n *ChargingNotifyResponse) error {
	return Decoder{}.DecodeChargingNotifyResponse(data, n)
}

// DecodeProblemDetails decodes a ProblemDetails with the default Limits.
func DecodeProblemDetails(data []byte, p *ProblemDetails) error {
	return Decoder{}.DecodeProblemDetails(data, p)
}

// DecodeChargingDataRequest decodes a ChargingDataRequest within dc.Limits.
func (dc Decoder) DecodeChargingDataRequest(data []byte, req *ChargingDataRequest) error {
	*req = ChargingDataRequest{}
	d := newDecoder(dc, data)
	return d.top(func() error { return d.chargingDataRequest(req) })
}

// DecodeChargingDataResponse decodes a ChargingDataResponse within dc.Limits.
func (dc Decoder) DecodeChargingDataResponse(data []byte, resp *ChargingDataResponse) error {
	*resp = ChargingDataResponse{}
	d := newDecoder(dc, data)
	return d.top(func() error { return d.chargingDataResponse(resp) })
}

// DecodeChargingNotifyRequest decodes a ChargingNotifyRequest within dc.Limits.
func (dc Decoder) DecodeChargingNotifyRequest(data []byte, n *ChargingNotifyRequest) error {
	*n = ChargingNotifyRequest{}
	d := newDecoder(dc, data)
	return d.top(func() error { return d.chargingNotifyRequest(n) })
}

// DecodeChargingNotifyResponse decodes a ChargingNotifyResponse within dc.Limits.
func (dc Decoder) DecodeChargingNotifyResponse(data []byte, n *ChargingNotifyResponse) error {
	*n = ChargingNotifyResponse{}
	d := newDecoder(dc, data)
	return d.top(func() error {
		return d.object(func(k []byte) error {
			switch string(k) {
			case "invocationResult":
				if d.isNull() {
					return nil
				}
				n.InvocationResult = new(InvocationResult)
				return d.invocationResult(n.InvocationResult)
			}
			return d.extra(&n.Extra, k)
		})
	})
}

// DecodeProblemDetails decodes a ProblemDetails within dc.Limits.
func (dc Decoder) DecodeProblemDetails(data []byte, p *ProblemDetails) error {
	*p = ProblemDetails{}
	d := newDecoder(dc, data)
	return d.top(func() error { return d.problemDetails(p) })
}

func (d *decoder) chargingDataRequest(r *ChargingDataRequest) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "subscriberIdentifier":
			return d.str(&r.SubscriberIdentifier)
		case "tenantIdentifier":
			return d.str(&r.TenantIdentifier)
		case "chargingId":
			return d.u32(&r.ChargingId)
		case "mnSConsumerIdentifier":
			return d.str(&r.MnSConsumerIdentifier)
		case "nfConsumerIdentification":
			return d.req(&seen, 1, d.nfIdentification(&r.NfConsumerIdentification))
		case "invocationTimeStamp":
			return d.req(&seen, 2, d.dateTime(&r.InvocationTimeStamp))
		case "invocationSequenceNumber":
			return d.req(&seen, 4, d.u32(&r.InvocationSequenceNumber))
		case "retransmissionIndicator":
			return d.boolean(&r.RetransmissionIndicator)
		case "oneTimeEvent":
			return d.boolean(&r.OneTimeEvent)
		case "oneTimeEventType":
			return d.enum((*string)(&r.OneTimeEventType))
		case "notifyUri":
			return d.str(&r.NotifyUri)
		case "supportedFeatures":
			return d.str(&r.SupportedFeatures)
		case "serviceSpecificationInfo":
			return d.str(&r.ServiceSpecificationInfo)
		case "multipleUnitUsage":
			r.MultipleUnitUsage = r.MultipleUnitUsage[:0]
			return d.array(func(i int) error {
				r.MultipleUnitUsage = append(r.MultipleUnitUsage, MultipleUnitUsage{})
				return d.multipleUnitUsage(&r.MultipleUnitUsage[i])
			})
		case "triggers":
			return d.triggers(&r.Triggers)
		case "aMFId":
			return d.str(&r.AMFId)
		case "pDUSessionChargingInformation":
			if d.isNull() {
				return nil
			}
			r.PDUSessionChargingInformation = new(PDUSessionChargingInformation)
			return d.pduSessionChargingInformation(r.PDUSessionChargingInformation)
		case "sMSChargingInformation":
			if d.isNull() {
				return nil
			}
			r.SMSChargingInformation = new(SMSChargingInformation)
			return d.smsChargingInformation(r.SMSChargingInformation)
		}
		return d.extra(&r.Extra, k)
	})
	if err != nil {
		return err
	}
	switch {
	case seen&1 == 0:
		return d.missing("nfConsumerIdentification")
	case seen&2 == 0:
		return d.missing("invocationTimeStamp")
	case seen&4 == 0:
		return d.missing("invocationSequenceNumber")
	}
	return nil
}

func (d *decoder) chargingDataResponse(r *ChargingDataResponse) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "invocationTimeStamp":
			return d.req(&seen, 1, d.dateTime(&r.InvocationTimeStamp))
		case "invocationSequenceNumber":
			return d.req(&seen, 2, d.u32(&r.InvocationSequenceNumber))
		case "invocationResult":
			if d.isNull() {
				return nil
			}
			r.InvocationResult = new(InvocationResult)
			return d.invocationResult(r.InvocationResult)
		case "sessionFailover":
			return d.enum((*string)(&r.SessionFailover))
		case "supportedFeatures":
			return d.str(&r.SupportedFeatures)
		case "multipleUnitInformation":
			r.MultipleUnitInformation = r.MultipleUnitInformation[:0]
			return d.array(func(i int) error {
				r.MultipleUnitInformation = append(r.MultipleUnitInformation, MultipleUnitInformation{})
				return d.multipleUnitInformation(&r.MultipleUnitInformation[i])
			})
		case "triggers":
			return d.triggers(&r.Triggers)
		case "pDUSessionChargingInformation":
			if d.isNull() {
				return nil
			}
			r.PDUSessionChargingInformation = new(PDUSessionChargingInformation)
			return d.pduSessionChargingInformation(r.PDUSessionChargingInformation)
		}
		return d.extra(&r.Extra, k)
	})
	if err != nil {
		return err
	}
	switch {
	case seen&1 == 0:
		return d.missing("invocationTimeStamp")
	case seen&2 == 0:
		return d.missing("invocationSequenceNumber")
	}
	return nil
}

func (d *decoder) chargingNotifyRequest(n *ChargingNotifyRequest) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "notificationType":
			return d.req(&seen, 1, d.enum((*string)(&n.NotificationType)))
		case "reauthorizationDetails":
			n.ReauthorizationDetails = n.ReauthorizationDetails[:0]
			return d.array(func(i int) error {
				n.ReauthorizationDetails = append(n.ReauthorizationDetails, ReauthorizationDetails{})
				x := &n.ReauthorizationDetails[i]
				return d.object(func(k []byte) error {
					switch string(k) {
					case "serviceId":
						return d.u32(&x.ServiceId)
					case "ratingGroup":
						return d.u32(&x.RatingGroup)
					case "quotaManagementIndicator":
						return d.enum((*string)(&x.QuotaManagementIndicator))
					}
					return d.extra(&x.Extra, k)
				})
			})
		}
		return d.extra(&n.Extra, k)
	})
	if err != nil {
		return err
	}
	if seen&1 == 0 {
		return d.missing("notificationType")
	}
	return nil
}

func (d *decoder) invocationResult(r *InvocationResult) error {
	return d.object(func(k []byte) error {
		switch string(k) {
		case "error":
			if d.isNull() {
				return nil
			}
			r.Error = new(ProblemDetails)
			return d.problemDetails(r.Error)
		case "failureHandling":
			return d.enum((*string)(&r.FailureHandling))
		}
		return d.extra(&r.Extra, k)
	})
}

func (d *decoder) problemDetails(p *ProblemDetails) error {
	return d.object(func(k []byte) error {
		switch string(k) {
		case "type":
			return d.str(&p.Type)
		case "title":
			return d.str(&p.Title)
		case "status":
			var v int64
			err := d.i64(&v)
			p.Status = int(v)
			return err
		case "detail":
			return d.str(&p.Detail)
		case "instance":
			return d.str(&p.Instance)
		case "cause":
			return d.enum(&p.Cause)
		case "invalidParams":
			p.InvalidParams = p.InvalidParams[:0]
			return d.array(func(i int) error {
				p.InvalidParams = append(p.InvalidParams, InvalidParam{})
				x := &p.InvalidParams[i]
				var seen uint32
				err := d.object(func(k []byte) error {
					switch string(k) {
					case "param":
						return d.req(&seen, 1, d.str(&x.Param))
					case "reason":
						return d.str(&x.Reason)
					}
					return d.extra(&x.Extra, k)
				})
				if err == nil && seen&1 == 0 {
					err = d.missing("param")
				}
				return err
			})
		case "supportedFeatures":
			return d.str(&p.SupportedFeatures)
		case "nrfId":
			return d.str(&p.NrfId)
		case "supportedApiVersions":
			return d.strs(&p.SupportedApiVersions)
		}
		return d.extra(&p.Extra, k)
	})
}

func (d *decoder) nfIdentification(n *NFIdentification) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "nFName":
			return d.str(&n.NFName)
		case "nFIPv4Address":
			return d.str(&n.NFIPv4Address)
		case "nFIPv6Address":
			return d.str(&n.NFIPv6Address)
		case "nFPLMNID":
			if d.isNull() {
				return nil
			}
			n.NFPLMNID = new(PlmnId)
			return d.plmnID(n.NFPLMNID)
		case "nodeFunctionality":
			return d.req(&seen, 1, d.enum((*string)(&n.NodeFunctionality)))
		case "nFFqdn":
			return d.str(&n.NFFqdn)
		}
		return d.extra(&n.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("nodeFunctionality")
	}
	return err
}

func (d *decoder) plmnID(p *PlmnId) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "mcc":
			return d.req(&seen, 1, d.enum(&p.Mcc))
		case "mnc":
			return d.req(&seen, 2, d.enum(&p.Mnc))
		}
		return d.extra(&p.Extra, k)
	})
	switch {
	case err != nil:
		return err
	case seen&1 == 0:
		return d.missing("mcc")
	case seen&2 == 0:
		return d.missing("mnc")
	}
	return nil
}

func (d *decoder) snssai(s *Snssai) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "sst":
			return d.req(&seen, 1, d.u8(&s.Sst))
		case "sd":
			return d.str(&s.Sd)
		}
		return d.extra(&s.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("sst")
	}
	return err
}

func (d *decoder) ambr(a *Ambr) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "uplink":
			return d.req(&seen, 1, d.str(&a.Uplink))
		case "downlink":
			return d.req(&seen, 2, d.str(&a.Downlink))
		}
		return d.extra(&a.Extra, k)
	})
	switch {
	case err != nil:
		return err
	case seen&1 == 0:
		return d.missing("uplink")
	case seen&2 == 0:
		return d.missing("downlink")
	}
	return nil
}

func (d *decoder) multipleUnitUsage(m *MultipleUnitUsage) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "ratingGroup":
			return d.req(&seen, 1, d.u32(&m.RatingGroup))
		case "requestedUnit":
			if d.isNull() {
				return nil
			}
			m.RequestedUnit = new(RequestedUnit)
			return d.requestedUnit(m.RequestedUnit)
		case "usedUnitContainer":
			m.UsedUnitContainer = m.UsedUnitContainer[:0]
			return d.array(func(i int) error {
				m.UsedUnitContainer = append(m.UsedUnitContainer, UsedUnitContainer{})
				return d.usedUnitContainer(&m.UsedUnitContainer[i])
			})
		case "uPFID":
			return d.str(&m.UPFID)
		}
		return d.extra(&m.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("ratingGroup")
	}
	return err
}

func (d *decoder) requestedUnit(u *RequestedUnit) error {
	return d.object(func(k []byte) error {
		switch string(k) {
		case "time":
			return d.u32(&u.Time)
		case "totalVolume":
			return d.u64(&u.TotalVolume)
		case "uplinkVolume":
			return d.u64(&u.UplinkVolume)
		case "downlinkVolume":
			return d.u64(&u.DownlinkVolume)
		case "serviceSpecificUnits":
			return d.u64(&u.ServiceSpecificUnits)
		}
		return d.extra(&u.Extra, k)
	})
}

func (d *decoder) usedUnitContainer(u *UsedUnitContainer) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "serviceId":
			return d.u32(&u.ServiceId)
		case "quotaManagementIndicator":
			return d.enum((*string)(&u.QuotaManagementIndicator))
		case "triggers":
			return d.triggers(&u.Triggers)
		case "triggerTimestamp":
			return d.dateTime(&u.TriggerTimestamp)
		case "time":
			return d.u32(&u.Time)
		case "totalVolume":
			return d.u64(&u.TotalVolume)
		case "uplinkVolume":
			return d.u64(&u.UplinkVolume)
		case "downlinkVolume":
			return d.u64(&u.DownlinkVolume)
		case "serviceSpecificUnits":
			return d.u64(&u.ServiceSpecificUnits)
		case "eventTimeStamps":
			return d.times(&u.EventTimeStamps)
		case "localSequenceNumber":
			return d.req(&seen, 1, d.u64(&u.LocalSequenceNumber))
		}
		return d.extra(&u.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("localSequenceNumber")
	}
	return err
}

func (d *decoder) triggers(dst *[]Trigger) error {
	*dst = (*dst)[:0]
	err := d.array(func(i int) error {
		*dst = append(*dst, Trigger{})
		return d.trigger(&(*dst)[i])
	})
	if len(*dst) == 0 {
		*dst = nil
	}
	return err
}

func (d *decoder) trigger(t *Trigger) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "triggerType":
			return d.enum((*string)(&t.TriggerType))
		case "triggerCategory":
			return d.req(&seen, 1, d.enum((*string)(&t.TriggerCategory)))
		case "timeLimit":
			return d.i64(&t.TimeLimit)
		case "volumeLimit":
			return d.u32(&t.VolumeLimit)
		case "volumeLimit64":
			return d.u64(&t.VolumeLimit64)
		case "eventLimit":
			return d.u32(&t.EventLimit)
		case "maxNumberOfccc":
			return d.u32(&t.MaxNumberOfccc)
		case "tariffTimeChange":
			return d.dateTime(&t.TariffTimeChange)
		}
		return d.extra(&t.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("triggerCategory")
	}
	return err
}

func (d *decoder) multipleUnitInformation(m *MultipleUnitInformation) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "resultCode":
			return d.enum((*string)(&m.ResultCode))
		case "ratingGroup":
			return d.req(&seen, 1, d.u32(&m.RatingGroup))
		case "grantedUnit":
			if d.isNull() {
				return nil
			}
			m.GrantedUnit = new(GrantedUnit)
			g := m.GrantedUnit
			return d.object(func(k []byte) error {
				switch string(k) {
				case "tariffTimeChange":
					return d.dateTime(&g.TariffTimeChange)
				case "time":
					return d.u32(&g.Time)
				case "totalVolume":
					return d.u64(&g.TotalVolume)
				case "uplinkVolume":
					return d.u64(&g.UplinkVolume)
				case "downlinkVolume":
					return d.u64(&g.DownlinkVolume)
				case "serviceSpecificUnits":
					return d.u64(&g.ServiceSpecificUnits)
				}
				return d.extra(&g.Extra, k)
			})
		case "triggers":
			return d.triggers(&m.Triggers)
		case "validityTime":
			return d.i64(&m.ValidityTime)
		case "quotaHoldingTime":
			return d.i64(&m.QuotaHoldingTime)
		case "finalUnitIndication":
			if d.isNull() {
				return nil
			}
			m.FinalUnitIndication = new(FinalUnitIndication)
			return d.finalUnitIndication(m.FinalUnitIndication)
		case "timeQuotaThreshold":
			return d.u64(&m.TimeQuotaThreshold)
		case "volumeQuotaThreshold":
			return d.u64(&m.VolumeQuotaThreshold)
		case "unitQuotaThreshold":
			return d.u64(&m.UnitQuotaThreshold)
		case "uPFID":
			return d.str(&m.UPFID)
		}
		return d.extra(&m.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("ratingGroup")
	}
	return err
}

func (d *decoder) finalUnitIndication(f *FinalUnitIndication) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "finalUnitAction":
			return d.req(&seen, 1, d.enum((*string)(&f.FinalUnitAction)))
		case "restrictionFilterRule":
			return d.str(&f.RestrictionFilterRule)
		case "restrictionFilterRuleList":
			return d.strs(&f.RestrictionFilterRuleList)
		case "filterId":
			return d.str(&f.FilterId)
		case "filterIdList":
			return d.strs(&f.FilterIdList)
		case "redirectServer":
			if d.isNull() {
				return nil
			}
			f.RedirectServer = new(RedirectServer)
			r := f.RedirectServer
			var seen uint32
			err := d.object(func(k []byte) error {
				switch string(k) {
				case "redirectAddressType":
					return d.req(&seen, 1, d.enum((*string)(&r.RedirectAddressType)))
				case "redirectServerAddress":
					return d.req(&seen, 2, d.str(&r.RedirectServerAddress))
				}
				return d.extra(&r.Extra, k)
			})
			switch {
			case err != nil:
				return err
			case seen&1 == 0:
				return d.missing("redirectAddressType")
			case seen&2 == 0:
				return d.missing("redirectServerAddress")
			}
			return nil
		}
		return d.extra(&f.Extra, k)
	})
	if err == nil && seen&1 == 0 {
		err = d.missing("finalUnitAction")
	}
	return err
}

func (d *decoder) pduSessionChargingInformation(p *PDUSessionChargingInformation) error {
	return d.object(func(k []byte) error {
		switch string(k) {
		case "chargingId":
			return d.u32(&p.ChargingId)
		case "sMFchargingId":
			return d.str(&p.SMFchargingId)
		case "homeProvidedChargingId":
			return d.u32(&p.HomeProvidedChargingId)
		case "sMFHomeProvidedChargingId":
			return d.str(&p.SMFHomeProvidedChargingId)
		case "userInformation":
			if d.isNull() {
				return nil
			}
			p.UserInformation = new(UserInformation)
			u := p.UserInformation
			return d.object(func(k []byte) error {
				switch string(k) {
				case "servedGPSI":
					return d.str(&u.ServedGPSI)
				case "servedPEI":
					return d.str(&u.ServedPEI)
				case "unauthenticatedFlag":
					return d.boolean(&u.UnauthenticatedFlag)
				case "roamerInOut":
					return d.enum((*string)(&u.RoamerInOut))
				}
				return d.extra(&u.Extra, k)
			})
		case "userLocationinfo":
			return d.raw(&p.UserLocationinfo)
		case "uetimeZone":
			return d.str(&p.UetimeZone)
		case "pduSessionInformation":
			if d.isNull() {
				return nil
			}
			p.PduSessionInformation = new(PDUSessionInformation)
			return d.pduSessionInformation(p.PduSessionInformation)
		case "unitCountInactivityTimer":
			return d.i64(&p.UnitCountInactivityTimer)
		}
		return d.extra(&p.Extra, k)
	})
}

func (d *decoder) pduSessionInformation(p *PDUSessionInformation) error {
	var seen uint32
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "networkSlicingInfo":
			if d.isNull() {
				return nil
			}
			p.NetworkSlicingInfo = new(NetworkSlicingInfo)
			n := p.NetworkSlicingInfo
			var seen uint32
			err := d.object(func(k []byte) error {
				switch string(k) {
				case "sNSSAI":
					return d.req(&seen, 1, d.snssai(&n.SNSSAI))
				case "hPlmnSNSSAI":
					if d.isNull() {
						return nil
					}
					n.HPlmnSNSSAI = new(Snssai)
					return d.snssai(n.HPlmnSNSSAI)
				}
				return d.extra(&n.Extra, k)
			})
			if err == nil && seen&1 == 0 {
				err = d.missing("sNSSAI")
			}
			return err
		case "pduSessionID":
			return d.req(&seen, 1, d.u8(&p.PduSessionID))
		case "pduType":
			return d.enum((*string)(&p.PduType))
		case "sscMode":
			return d.enum((*string)(&p.SscMode))
		case "hPlmnId":
			if d.isNull() {
				return nil
			}
			p.HPlmnId = new(PlmnId)
			return d.plmnID(p.HPlmnId)
		case "servingNetworkFunctionID":
			if d.isNull() {
				return nil
			}
			p.ServingNetworkFunctionID = new(ServingNetworkFunctionID)
			s := p.ServingNetworkFunctionID
			var seen uint32
			err := d.object(func(k []byte) error {
				switch string(k) {
				case "servingNetworkFunctionInformation":
					return d.req(&seen, 1, d.nfIdentification(&s.ServingNetworkFunctionInformation))
				case "aMFId":
					return d.str(&s.AMFId)
				}
				return d.extra(&s.Extra, k)
			})
			if err == nil && seen&1 == 0 {
				err = d.missing("servingNetworkFunctionInformation")
			}
			return err
		case "ratType":
			return d.enum((*string)(&p.RatType))
		case "dnnId":
			return d.req(&seen, 2, d.str(&p.DnnId))
		case "dnnSelectionMode":
			return d.enum((*string)(&p.DnnSelectionMode))
		case "chargingCharacteristics":
			return d.str(&p.ChargingCharacteristics)
		case "chargingCharacteristicsSelectionMode":
			return d.enum((*string)(&p.ChargingCharacteristicsSelectionMode))
		case "startTime":
			return d.dateTime(&p.StartTime)
		case "stopTime":
			return d.dateTime(&p.StopTime)
		case "sessionStopIndicator":
			return d.boolean(&p.SessionStopIndicator)
		case "pduAddress":
			if d.isNull() {
				return nil
			}
			p.PduAddress = new(PDUAddress)
			a := p.PduAddress
			return d.object(func(k []byte) error {
				switch string(k) {
				case "pduIPv4Address":
					return d.str(&a.PduIPv4Address)
				case "pduIPv6AddresswithPrefix":
					return d.str(&a.PduIPv6AddresswithPrefix)
				case "pduAddressprefixlength":
					return d.u64(&a.PduAddressprefixlength)
				case "iPv4dynamicAddressFlag":
					return d.boolean(&a.IPv4dynamicAddressFlag)
				case "iPv6dynamicPrefixFlag":
					return d.boolean(&a.IPv6dynamicPrefixFlag)
				case "addIpv6AddrPrefixes":
					return d.str(&a.AddIpv6AddrPrefixes)
				case "addIpv6AddrPrefixList":
					return d.strs(&a.AddIpv6AddrPrefixList)
				}
				return d.extra(&a.Extra, k)
			})
		case "authorizedSessionAMBR":
			if d.isNull() {
				return nil
			}
			p.AuthorizedSessionAMBR = new(Ambr)
			return d.ambr(p.AuthorizedSessionAMBR)
		case "subscribedSessionAMBR":
			if d.isNull() {
				return nil
			}
			p.SubscribedSessionAMBR = new(Ambr)
			return d.ambr(p.SubscribedSessionAMBR)
		case "servingCNPlmnId":
			if d.isNull() {
				return nil
			}
			p.ServingCNPlmnId = new(PlmnId)
			return d.plmnID(p.ServingCNPlmnId)
		}
		return d.extra(&p.Extra, k)
	})
	switch {
	case err != nil:
		return err
	case seen&1 == 0:
		return d.missing("pduSessionID")
	case seen&2 == 0:
		return d.missing("dnnId")
	}
	return nil
}

func (d *decoder) smsChargingInformation(s *SMSChargingInformation) error {
	return d.object(func(k []byte) error {
		switch string(k) {
		case "originatorInfo":
			if d.isNull() {
				return nil
			}
			s.OriginatorInfo = new(OriginatorInfo)
			o := s.OriginatorInfo
			return d.object(func(k []byte) error {
				switch string(k) {
				case "originatorSUPI":
					return d.str(&o.OriginatorSUPI)
				case "originatorGPSI":
					return d.str(&o.OriginatorGPSI)
				case "originatorOtherAddress":
					return d.smAddressInfo(&o.OriginatorOtherAddress)
				case "originatorReceivedAddress":
					return d.smAddressInfo(&o.OriginatorReceivedAddress)
				case "originatorSCCPAddress":
					return d.str(&o.OriginatorSCCPAddress)
				case "sMOriginatorInterface":
					return d.smInterface(&o.SMOriginatorInterface)
				case "sMOriginatorProtocolId":
					return d.str(&o.SMOriginatorProtocolId)
				}
				return d.extra(&o.Extra, k)
			})
		case "recipientInfo":
			s.RecipientInfo = s.RecipientInfo[:0]
			return d.array(func(i int) error {
				s.RecipientInfo = append(s.RecipientInfo, RecipientInfo{})
				r := &s.RecipientInfo[i]
				return d.object(func(k []byte) error {
					switch string(k) {
					case "recipientSUPI":
						return d.str(&r.RecipientSUPI)
					case "recipientGPSI":
						return d.str(&r.RecipientGPSI)
					case "recipientOtherAddress":
						return d.smAddressInfo(&r.RecipientOtherAddress)
					case "recipientReceivedAddress":
						return d.smAddressInfo(&r.RecipientReceivedAddress)
					case "recipientSCCPAddress":
						return d.str(&r.RecipientSCCPAddress)
					case "sMDestinationInterface":
						return d.smInterface(&r.SMDestinationInterface)
					case "sMrecipientProtocolId":
						return d.str(&r.SMrecipientProtocolId)
					}
					return d.extra(&r.Extra, k)
				})
			})
		case "userEquipmentInfo":
			return d.str(&s.UserEquipmentInfo)
		case "roamerInOut":
			return d.enum((*string)(&s.RoamerInOut))
		case "userLocationinfo":
			return d.raw(&s.UserLocationinfo)
		case "uetimeZone":
			return d.str(&s.UetimeZone)
		case "rATType":
			return d.enum((*string)(&s.RATType))
		case "sMSCAddress":
			return d.str(&s.SMSCAddress)
		case "sMDataCodingScheme":
			return d.i64(&s.SMDataCodingScheme)
		case "sMMessageType":
			return d.enum((*string)(&s.SMMessageType))
		case "sMReplyPathRequested":
			return d.enum((*string)(&s.SMReplyPathRequested))
		case "sMUserDataHeader":
			return d.str(&s.SMUserDataHeader)
		case "sMStatus":
			return d.str(&s.SMStatus)
		case "sMDischargeTime":
			return d.dateTime(&s.SMDischargeTime)
		case "numberofMessagesSent":
			return d.u32(&s.NumberofMessagesSent)
		case "sMServiceType":
			return d.enum((*string)(&s.SMServiceType))
		case "sMSequenceNumber":
			return d.u32(&s.SMSequenceNumber)
		case "sMSresult":
			return d.u32(&s.SMSresult)
		case "submissionTime":
			return d.dateTime(&s.SubmissionTime)
		case "sMPriority":
			return d.enum((*string)(&s.SMPriority))
		case "messageReference":
			return d.str(&s.MessageReference)
		case "messageSize":
			return d.u32(&s.MessageSize)
		case "messageClass":
			if d.isNull() {
				return nil
			}
			s.MessageClass = new(MessageClass)
			m := s.MessageClass
			return d.object(func(k []byte) error {
				switch string(k) {
				case "classIdentifier":
					return d.enum((*string)(&m.ClassIdentifier))
				case "tokenText":
					return d.str(&m.TokenText)
				}
				return d.extra(&m.Extra, k)
			})
		case "deliveryReportRequested":
			return d.enum((*string)(&s.DeliveryReportRequested))
		}
		return d.extra(&s.Extra, k)
	})
}

func (d *decoder) smAddressInfo(dst **SMAddressInfo) error {
	if d.isNull() {
		return nil
	}
	a := new(SMAddressInfo)
	*dst = a
	return d.object(func(k []byte) error {
		switch string(k) {
		case "sMaddressType":
			return d.enum((*string)(&a.SMaddressType))
		case "sMaddressData":
			return d.str(&a.SMaddressData)
		case "sMaddressDomain":
			if d.isNull() {
				return nil
			}
			a.SMaddressDomain = new(SMAddressDomain)
			m := a.SMaddressDomain
			return d.object(func(k []byte) error {
				switch string(k) {
				case "domainName":
					return d.str(&m.DomainName)
				case "3GPPIMSIMCCMNC":
					return d.str(&m.ThreeGPPIMSIMCCMNC)
				}
				return d.extra(&m.Extra, k)
			})
		}
		return d.extra(&a.Extra, k)
	})
}

func (d *decoder) smInterface(dst **SMInterface) error {
	if d.isNull() {
		return nil
	}
	s := new(SMInterface)
	*dst = s
	return d.object(func(k []byte) error {
		switch string(k) {
		case "interfaceId":
			return d.str(&s.InterfaceId)
		case "interfaceText":
			return d.str(&s.InterfaceText)
		case "interfacePort":
			return d.str(&s.InterfacePort)
		case "interfaceType":
			return d.enum((*string)(&s.InterfaceType))
		}
		return d.extra(&s.Extra, k)
	})
}
