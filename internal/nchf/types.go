package nchf

import (
	"encoding/json"
	"time"
)

// Conventions of the types below (see doc.go for the full story):
//
//   - Field names are the 3GPP attribute names with the first letter upper-cased;
//     the JSON names are exactly the 3GPP ones. The struct tags make the types
//     usable with encoding/json too (slower, no limits; the benchmarks use it as
//     the baseline), but Decode*/Append* are the codec of record.
//   - Uint32 → uint32, Uint64 → uint64 (volumes are never narrowed),
//     DurationSec → int64 (the spec allows any integer), plain "integer"
//     counters and thresholds → uint64 (negative values are rejected),
//     DateTime → time.Time (RFC 3339).
//   - An optional scalar that is absent decodes to its zero value and a zero
//     value is not encoded; optional objects are pointers; mandatory objects are
//     values.
//   - Extra keeps, in order, the members of an object that this package does
//     not model (other charging information, newer releases' attributes), so
//     that they are recorded and re-encoded unchanged.

// RawMember is one JSON object member kept verbatim: Name is unescaped, Value
// is a complete JSON value (as received when decoded; it must be valid JSON when
// set by hand, since the encoder copies it).
type RawMember struct {
	Name  string
	Value json.RawMessage
}

// ChargingDataRequest is TS32291 #/components/schemas/ChargingDataRequest, the
// body of create (POST /chargingdata), update ({ChargingDataRef}/update) and
// release ({ChargingDataRef}/release). Required: nfConsumerIdentification,
// invocationTimeStamp, invocationSequenceNumber.
type ChargingDataRequest struct {
	SubscriberIdentifier          string                         `json:"subscriberIdentifier,omitempty"` // Supi
	TenantIdentifier              string                         `json:"tenantIdentifier,omitempty"`
	ChargingId                    uint32                         `json:"chargingId,omitempty"` // ChargingId (deprecated in the spec)
	MnSConsumerIdentifier         string                         `json:"mnSConsumerIdentifier,omitempty"`
	NfConsumerIdentification      NFIdentification               `json:"nfConsumerIdentification"`
	InvocationTimeStamp           time.Time                      `json:"invocationTimeStamp"`
	InvocationSequenceNumber      uint32                         `json:"invocationSequenceNumber"`
	RetransmissionIndicator       bool                           `json:"retransmissionIndicator,omitempty"`
	OneTimeEvent                  bool                           `json:"oneTimeEvent,omitempty"`
	OneTimeEventType              OneTimeEventType               `json:"oneTimeEventType,omitempty"`
	NotifyUri                     string                         `json:"notifyUri,omitempty"`
	SupportedFeatures             string                         `json:"supportedFeatures,omitempty"`
	ServiceSpecificationInfo      string                         `json:"serviceSpecificationInfo,omitempty"`
	MultipleUnitUsage             []MultipleUnitUsage            `json:"multipleUnitUsage,omitempty"`
	Triggers                      []Trigger                      `json:"triggers,omitempty"`
	AMFId                         string                         `json:"aMFId,omitempty"`
	PDUSessionChargingInformation *PDUSessionChargingInformation `json:"pDUSessionChargingInformation,omitempty"`
	SMSChargingInformation        *SMSChargingInformation        `json:"sMSChargingInformation,omitempty"`
	Extra                         []RawMember                    `json:"-"`
}

// ChargingDataResponse is TS32291 #/components/schemas/ChargingDataResponse.
// Required: invocationTimeStamp, invocationSequenceNumber.
type ChargingDataResponse struct {
	InvocationTimeStamp           time.Time                      `json:"invocationTimeStamp"`
	InvocationSequenceNumber      uint32                         `json:"invocationSequenceNumber"`
	InvocationResult              *InvocationResult              `json:"invocationResult,omitempty"`
	SessionFailover               SessionFailover                `json:"sessionFailover,omitempty"`
	SupportedFeatures             string                         `json:"supportedFeatures,omitempty"`
	MultipleUnitInformation       []MultipleUnitInformation      `json:"multipleUnitInformation,omitempty"`
	Triggers                      []Trigger                      `json:"triggers,omitempty"`
	PDUSessionChargingInformation *PDUSessionChargingInformation `json:"pDUSessionChargingInformation,omitempty"`
	Extra                         []RawMember                    `json:"-"`
}

// ChargingNotifyRequest is TS32291 #/components/schemas/ChargingNotifyRequest,
// the body the CHF POSTs to the consumer's notifyUri. Required:
// notificationType.
type ChargingNotifyRequest struct {
	NotificationType       NotificationType         `json:"notificationType"`
	ReauthorizationDetails []ReauthorizationDetails `json:"reauthorizationDetails,omitempty"`
	Extra                  []RawMember              `json:"-"`
}

// ChargingNotifyResponse is TS32291 #/components/schemas/ChargingNotifyResponse.
type ChargingNotifyResponse struct {
	InvocationResult *InvocationResult `json:"invocationResult,omitempty"`
	Extra            []RawMember       `json:"-"`
}

// ReauthorizationDetails is TS32291 #/components/schemas/ReauthorizationDetails.
type ReauthorizationDetails struct {
	ServiceId                uint32                   `json:"serviceId,omitempty"`
	RatingGroup              uint32                   `json:"ratingGroup,omitempty"`
	QuotaManagementIndicator QuotaManagementIndicator `json:"quotaManagementIndicator,omitempty"`
	Extra                    []RawMember              `json:"-"`
}

// InvocationResult is TS32291 #/components/schemas/InvocationResult.
type InvocationResult struct {
	Error           *ProblemDetails `json:"error,omitempty"`
	FailureHandling FailureHandling `json:"failureHandling,omitempty"`
	Extra           []RawMember     `json:"-"`
}

// NFIdentification is TS32291 #/components/schemas/NFIdentification.
// Required: nodeFunctionality.
type NFIdentification struct {
	NFName            string            `json:"nFName,omitempty"` // NfInstanceId (UUID)
	NFIPv4Address     string            `json:"nFIPv4Address,omitempty"`
	NFIPv6Address     string            `json:"nFIPv6Address,omitempty"`
	NFPLMNID          *PlmnId           `json:"nFPLMNID,omitempty"`
	NodeFunctionality NodeFunctionality `json:"nodeFunctionality"`
	NFFqdn            string            `json:"nFFqdn,omitempty"`
	Extra             []RawMember       `json:"-"`
}

// PlmnId is TS29571 #/components/schemas/PlmnId. Required: mcc, mnc.
type PlmnId struct {
	Mcc   string      `json:"mcc"`
	Mnc   string      `json:"mnc"`
	Extra []RawMember `json:"-"`
}

// Snssai is TS29571 #/components/schemas/Snssai. Required: sst (0..255).
type Snssai struct {
	Sst   uint8       `json:"sst"`
	Sd    string      `json:"sd,omitempty"`
	Extra []RawMember `json:"-"`
}

// Ambr is TS29571 #/components/schemas/Ambr (BitRate strings such as
// "100 Mbps"). Required: uplink, downlink.
type Ambr struct {
	Uplink   string      `json:"uplink"`
	Downlink string      `json:"downlink"`
	Extra    []RawMember `json:"-"`
}

// MultipleUnitUsage is TS32291 #/components/schemas/MultipleUnitUsage: the
// usage report and quota request of one rating group. Required: ratingGroup.
type MultipleUnitUsage struct {
	RatingGroup       uint32              `json:"ratingGroup"`
	RequestedUnit     *RequestedUnit      `json:"requestedUnit,omitempty"`
	UsedUnitContainer []UsedUnitContainer `json:"usedUnitContainer,omitempty"`
	UPFID             string              `json:"uPFID,omitempty"`
	Extra             []RawMember         `json:"-"` // e.g. multihomedPDUAddress
}

// RequestedUnit is TS32291 #/components/schemas/RequestedUnit. An empty object
// ({}) is meaningful: "grant quota, the CHF chooses the amount"; it decodes to
// a non-nil pointer to a zero RequestedUnit.
type RequestedUnit struct {
	Time                 uint32      `json:"time,omitempty"`
	TotalVolume          uint64      `json:"totalVolume,omitempty"`
	UplinkVolume         uint64      `json:"uplinkVolume,omitempty"`
	DownlinkVolume       uint64      `json:"downlinkVolume,omitempty"`
	ServiceSpecificUnits uint64      `json:"serviceSpecificUnits,omitempty"`
	Extra                []RawMember `json:"-"`
}

// UsedUnitContainer is TS32291 #/components/schemas/UsedUnitContainer.
// Required: localSequenceNumber.
type UsedUnitContainer struct {
	ServiceId                uint32                   `json:"serviceId,omitempty"`
	QuotaManagementIndicator QuotaManagementIndicator `json:"quotaManagementIndicator,omitempty"`
	Triggers                 []Trigger                `json:"triggers,omitempty"`
	TriggerTimestamp         time.Time                `json:"triggerTimestamp,omitzero"`
	Time                     uint32                   `json:"time,omitempty"`
	TotalVolume              uint64                   `json:"totalVolume,omitempty"`
	UplinkVolume             uint64                   `json:"uplinkVolume,omitempty"`
	DownlinkVolume           uint64                   `json:"downlinkVolume,omitempty"`
	ServiceSpecificUnits     uint64                   `json:"serviceSpecificUnits,omitempty"`
	EventTimeStamps          []time.Time              `json:"eventTimeStamps,omitempty"`
	LocalSequenceNumber      uint64                   `json:"localSequenceNumber"` // spec: integer
	Extra                    []RawMember              `json:"-"`                   // e.g. pDUContainerInformation
}

// Trigger is TS32291 #/components/schemas/Trigger. Required: triggerCategory.
type Trigger struct {
	TriggerType      TriggerType     `json:"triggerType,omitempty"`
	TriggerCategory  TriggerCategory `json:"triggerCategory"`
	TimeLimit        int64           `json:"timeLimit,omitempty"` // DurationSec
	VolumeLimit      uint32          `json:"volumeLimit,omitempty"`
	VolumeLimit64    uint64          `json:"volumeLimit64,omitempty"`
	EventLimit       uint32          `json:"eventLimit,omitempty"`
	MaxNumberOfccc   uint32          `json:"maxNumberOfccc,omitempty"`
	TariffTimeChange time.Time       `json:"tariffTimeChange,omitzero"`
	Extra            []RawMember     `json:"-"`
}

// MultipleUnitInformation is TS32291 #/components/schemas/MultipleUnitInformation:
// the CHF's answer for one rating group. Required: ratingGroup.
type MultipleUnitInformation struct {
	ResultCode           ResultCode           `json:"resultCode,omitempty"`
	RatingGroup          uint32               `json:"ratingGroup"`
	GrantedUnit          *GrantedUnit         `json:"grantedUnit,omitempty"`
	Triggers             []Trigger            `json:"triggers,omitempty"`
	ValidityTime         int64                `json:"validityTime,omitempty"`     // DurationSec
	QuotaHoldingTime     int64                `json:"quotaHoldingTime,omitempty"` // DurationSec
	FinalUnitIndication  *FinalUnitIndication `json:"finalUnitIndication,omitempty"`
	TimeQuotaThreshold   uint64               `json:"timeQuotaThreshold,omitempty"` // spec: integer
	VolumeQuotaThreshold uint64               `json:"volumeQuotaThreshold,omitempty"`
	UnitQuotaThreshold   uint64               `json:"unitQuotaThreshold,omitempty"` // spec: integer
	UPFID                string               `json:"uPFID,omitempty"`
	Extra                []RawMember          `json:"-"` // e.g. announcementInformation
}

// GrantedUnit is TS32291 #/components/schemas/GrantedUnit.
type GrantedUnit struct {
	TariffTimeChange     time.Time   `json:"tariffTimeChange,omitzero"`
	Time                 uint32      `json:"time,omitempty"`
	TotalVolume          uint64      `json:"totalVolume,omitempty"`
	UplinkVolume         uint64      `json:"uplinkVolume,omitempty"`
	DownlinkVolume       uint64      `json:"downlinkVolume,omitempty"`
	ServiceSpecificUnits uint64      `json:"serviceSpecificUnits,omitempty"`
	Extra                []RawMember `json:"-"`
}

// FinalUnitIndication is TS32291 #/components/schemas/FinalUnitIndication.
// Required: finalUnitAction.
type FinalUnitIndication struct {
	FinalUnitAction           FinalUnitAction `json:"finalUnitAction"`
	RestrictionFilterRule     string          `json:"restrictionFilterRule,omitempty"` // IPFilterRule
	RestrictionFilterRuleList []string        `json:"restrictionFilterRuleList,omitempty"`
	FilterId                  string          `json:"filterId,omitempty"`
	FilterIdList              []string        `json:"filterIdList,omitempty"`
	RedirectServer            *RedirectServer `json:"redirectServer,omitempty"`
	Extra                     []RawMember     `json:"-"`
}

// RedirectServer is TS32291 #/components/schemas/RedirectServer. Required:
// redirectAddressType, redirectServerAddress.
type RedirectServer struct {
	RedirectAddressType   RedirectAddressType `json:"redirectAddressType"`
	RedirectServerAddress string              `json:"redirectServerAddress"`
	Extra                 []RawMember         `json:"-"`
}

// PDUSessionChargingInformation is TS32291
// #/components/schemas/PDUSessionChargingInformation, as sent by an SMF. The
// attributes a CHF rates or writes to a CHF-CDR directly are modelled; the rest
// (iMSSessionInformation, presenceReportingAreaInformation, …) stays in Extra.
// userLocationinfo (TS29571 UserLocation, a large union) is kept as raw JSON.
type PDUSessionChargingInformation struct {
	ChargingId                uint32                 `json:"chargingId,omitempty"`
	SMFchargingId             string                 `json:"sMFchargingId,omitempty"`
	HomeProvidedChargingId    uint32                 `json:"homeProvidedChargingId,omitempty"`
	SMFHomeProvidedChargingId string                 `json:"sMFHomeProvidedChargingId,omitempty"`
	UserInformation           *UserInformation       `json:"userInformation,omitempty"`
	UserLocationinfo          json.RawMessage        `json:"userLocationinfo,omitempty"`
	UetimeZone                string                 `json:"uetimeZone,omitempty"`
	PduSessionInformation     *PDUSessionInformation `json:"pduSessionInformation,omitempty"`
	UnitCountInactivityTimer  int64                  `json:"unitCountInactivityTimer,omitempty"` // DurationSec
	Extra                     []RawMember            `json:"-"`
}

// UserInformation is TS32291 #/components/schemas/UserInformation.
type UserInformation struct {
	ServedGPSI          string      `json:"servedGPSI,omitempty"` // Gpsi
	ServedPEI           string      `json:"servedPEI,omitempty"`  // Pei
	UnauthenticatedFlag bool        `json:"unauthenticatedFlag,omitempty"`
	RoamerInOut         RoamerInOut `json:"roamerInOut,omitempty"`
	Extra               []RawMember `json:"-"`
}

// PDUSessionInformation is TS32291 #/components/schemas/PDUSessionInformation.
// Required: pduSessionID, dnnId. QoS details (authorizedQoSInformation, …) and
// newer attributes stay in Extra.
type PDUSessionInformation struct {
	NetworkSlicingInfo                   *NetworkSlicingInfo                  `json:"networkSlicingInfo,omitempty"`
	PduSessionID                         uint8                                `json:"pduSessionID"` // PduSessionId 0..255
	PduType                              PduSessionType                       `json:"pduType,omitempty"`
	SscMode                              SscMode                              `json:"sscMode,omitempty"`
	HPlmnId                              *PlmnId                              `json:"hPlmnId,omitempty"`
	ServingNetworkFunctionID             *ServingNetworkFunctionID            `json:"servingNetworkFunctionID,omitempty"`
	RatType                              RatType                              `json:"ratType,omitempty"`
	DnnId                                string                               `json:"dnnId"`
	DnnSelectionMode                     DnnSelectionMode                     `json:"dnnSelectionMode,omitempty"`
	ChargingCharacteristics              string                               `json:"chargingCharacteristics,omitempty"`
	ChargingCharacteristicsSelectionMode ChargingCharacteristicsSelectionMode `json:"chargingCharacteristicsSelectionMode,omitempty"`
	StartTime                            time.Time                            `json:"startTime,omitzero"`
	StopTime                             time.Time                            `json:"stopTime,omitzero"`
	SessionStopIndicator                 bool                                 `json:"sessionStopIndicator,omitempty"`
	PduAddress                           *PDUAddress                          `json:"pduAddress,omitempty"`
	AuthorizedSessionAMBR                *Ambr                                `json:"authorizedSessionAMBR,omitempty"`
	SubscribedSessionAMBR                *Ambr                                `json:"subscribedSessionAMBR,omitempty"`
	ServingCNPlmnId                      *PlmnId                              `json:"servingCNPlmnId,omitempty"`
	Extra                                []RawMember                          `json:"-"`
}

// NetworkSlicingInfo is TS32291 #/components/schemas/NetworkSlicingInfo.
// Required: sNSSAI.
type NetworkSlicingInfo struct {
	SNSSAI      Snssai      `json:"sNSSAI"`
	HPlmnSNSSAI *Snssai     `json:"hPlmnSNSSAI,omitempty"`
	Extra       []RawMember `json:"-"`
}

// ServingNetworkFunctionID is TS32291 #/components/schemas/ServingNetworkFunctionID.
// Required: servingNetworkFunctionInformation.
type ServingNetworkFunctionID struct {
	ServingNetworkFunctionInformation NFIdentification `json:"servingNetworkFunctionInformation"`
	AMFId                             string           `json:"aMFId,omitempty"`
	Extra                             []RawMember      `json:"-"`
}

// PDUAddress is TS32291 #/components/schemas/PDUAddress.
type PDUAddress struct {
	PduIPv4Address           string      `json:"pduIPv4Address,omitempty"`
	PduIPv6AddresswithPrefix string      `json:"pduIPv6AddresswithPrefix,omitempty"`
	PduAddressprefixlength   uint64      `json:"pduAddressprefixlength,omitempty"` // spec: integer
	IPv4dynamicAddressFlag   bool        `json:"iPv4dynamicAddressFlag,omitempty"`
	IPv6dynamicPrefixFlag    bool        `json:"iPv6dynamicPrefixFlag,omitempty"`
	AddIpv6AddrPrefixes      string      `json:"addIpv6AddrPrefixes,omitempty"`
	AddIpv6AddrPrefixList    []string    `json:"addIpv6AddrPrefixList,omitempty"`
	Extra                    []RawMember `json:"-"`
}

// SMSChargingInformation is TS32291 #/components/schemas/SMSChargingInformation,
// sent by an SMSF in a one-time event (oneTimeEvent true, oneTimeEventType
// IEC or PEC). userLocationinfo is kept as raw JSON.
type SMSChargingInformation struct {
	OriginatorInfo          *OriginatorInfo         `json:"originatorInfo,omitempty"`
	RecipientInfo           []RecipientInfo         `json:"recipientInfo,omitempty"`
	UserEquipmentInfo       string                  `json:"userEquipmentInfo,omitempty"` // Pei
	RoamerInOut             RoamerInOut             `json:"roamerInOut,omitempty"`
	UserLocationinfo        json.RawMessage         `json:"userLocationinfo,omitempty"`
	UetimeZone              string                  `json:"uetimeZone,omitempty"`
	RATType                 RatType                 `json:"rATType,omitempty"`
	SMSCAddress             string                  `json:"sMSCAddress,omitempty"`
	SMDataCodingScheme      int64                   `json:"sMDataCodingScheme,omitempty"` // spec: integer
	SMMessageType           SMMessageType           `json:"sMMessageType,omitempty"`
	SMReplyPathRequested    ReplyPathRequested      `json:"sMReplyPathRequested,omitempty"`
	SMUserDataHeader        string                  `json:"sMUserDataHeader,omitempty"`
	SMStatus                string                  `json:"sMStatus,omitempty"`
	SMDischargeTime         time.Time               `json:"sMDischargeTime,omitzero"`
	NumberofMessagesSent    uint32                  `json:"numberofMessagesSent,omitempty"`
	SMServiceType           SMServiceType           `json:"sMServiceType,omitempty"`
	SMSequenceNumber        uint32                  `json:"sMSequenceNumber,omitempty"`
	SMSresult               uint32                  `json:"sMSresult,omitempty"`
	SubmissionTime          time.Time               `json:"submissionTime,omitzero"`
	SMPriority              SMPriority              `json:"sMPriority,omitempty"`
	MessageReference        string                  `json:"messageReference,omitempty"`
	MessageSize             uint32                  `json:"messageSize,omitempty"`
	MessageClass            *MessageClass           `json:"messageClass,omitempty"`
	DeliveryReportRequested DeliveryReportRequested `json:"deliveryReportRequested,omitempty"`
	Extra                   []RawMember             `json:"-"`
}

// OriginatorInfo is TS32291 #/components/schemas/OriginatorInfo.
type OriginatorInfo struct {
	OriginatorSUPI            string         `json:"originatorSUPI,omitempty"`
	OriginatorGPSI            string         `json:"originatorGPSI,omitempty"`
	OriginatorOtherAddress    *SMAddressInfo `json:"originatorOtherAddress,omitempty"`
	OriginatorReceivedAddress *SMAddressInfo `json:"originatorReceivedAddress,omitempty"`
	OriginatorSCCPAddress     string         `json:"originatorSCCPAddress,omitempty"`
	SMOriginatorInterface     *SMInterface   `json:"sMOriginatorInterface,omitempty"`
	SMOriginatorProtocolId    string         `json:"sMOriginatorProtocolId,omitempty"`
	Extra                     []RawMember    `json:"-"`
}

// RecipientInfo is TS32291 #/components/schemas/RecipientInfo.
type RecipientInfo struct {
	RecipientSUPI            string         `json:"recipientSUPI,omitempty"`
	RecipientGPSI            string         `json:"recipientGPSI,omitempty"`
	RecipientOtherAddress    *SMAddressInfo `json:"recipientOtherAddress,omitempty"`
	RecipientReceivedAddress *SMAddressInfo `json:"recipientReceivedAddress,omitempty"`
	RecipientSCCPAddress     string         `json:"recipientSCCPAddress,omitempty"`
	SMDestinationInterface   *SMInterface   `json:"sMDestinationInterface,omitempty"`
	SMrecipientProtocolId    string         `json:"sMrecipientProtocolId,omitempty"`
	Extra                    []RawMember    `json:"-"`
}

// SMAddressInfo is TS32291 #/components/schemas/SMAddressInfo.
type SMAddressInfo struct {
	SMaddressType   SMAddressType    `json:"sMaddressType,omitempty"`
	SMaddressData   string           `json:"sMaddressData,omitempty"`
	SMaddressDomain *SMAddressDomain `json:"sMaddressDomain,omitempty"`
	Extra           []RawMember      `json:"-"`
}

// SMAddressDomain is TS32291 #/components/schemas/SMAddressDomain. The Go name
// of "3GPPIMSIMCCMNC" cannot start with a digit.
type SMAddressDomain struct {
	DomainName         string      `json:"domainName,omitempty"`
	ThreeGPPIMSIMCCMNC string      `json:"3GPPIMSIMCCMNC,omitempty"`
	Extra              []RawMember `json:"-"`
}

// SMInterface is TS32291 #/components/schemas/SMInterface.
type SMInterface struct {
	InterfaceId   string        `json:"interfaceId,omitempty"`
	InterfaceText string        `json:"interfaceText,omitempty"`
	InterfacePort string        `json:"interfacePort,omitempty"`
	InterfaceType InterfaceType `json:"interfaceType,omitempty"`
	Extra         []RawMember   `json:"-"`
}

// MessageClass is TS32291 #/components/schemas/MessageClass.
type MessageClass struct {
	ClassIdentifier ClassIdentifier `json:"classIdentifier,omitempty"`
	TokenText       string          `json:"tokenText,omitempty"`
	Extra           []RawMember     `json:"-"`
}

// ProblemDetails is TS29571 #/components/schemas/ProblemDetails (RFC 7807 with
// 3GPP's cause and invalidParams). accessTokenError, accessTokenRequest and
// other attributes stay in Extra.
type ProblemDetails struct {
	Type                 string         `json:"type,omitempty"`
	Title                string         `json:"title,omitempty"`
	Status               int            `json:"status,omitempty"`
	Detail               string         `json:"detail,omitempty"`
	Instance             string         `json:"instance,omitempty"`
	Cause                string         `json:"cause,omitempty"`
	InvalidParams        []InvalidParam `json:"invalidParams,omitempty"`
	SupportedFeatures    string         `json:"supportedFeatures,omitempty"`
	NrfId                string         `json:"nrfId,omitempty"`
	SupportedApiVersions []string       `json:"supportedApiVersions,omitempty"`
	Extra                []RawMember    `json:"-"`
}

// InvalidParam is TS29571 #/components/schemas/InvalidParam. Param is a JSON
// Pointer (RFC 6901) into the request body. Required: param.
type InvalidParam struct {
	Param  string      `json:"param"`
	Reason string      `json:"reason,omitempty"`
	Extra  []RawMember `json:"-"`
}
