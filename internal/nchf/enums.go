package nchf

// The value lists below are copied verbatim from the enumerations of the 3GPP
// OpenAPI definitions (TS 32.291 V18.4.0, TS 29.571); TestEnumsMatchSpec checks
// them against testdata/3gpp.

// NodeFunctionality is the enumeration NodeFunctionality of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/NodeFunctionality).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type NodeFunctionality string

// Values of NodeFunctionality.
const (
	NodeFunctionalityAmf         NodeFunctionality = "AMF"
	NodeFunctionalitySmf         NodeFunctionality = "SMF"
	NodeFunctionalitySms         NodeFunctionality = "SMS"
	NodeFunctionalitySmsf        NodeFunctionality = "SMSF"
	NodeFunctionalityPgwCSmf     NodeFunctionality = "PGW_C_SMF"
	NodeFunctionalityNeff        NodeFunctionality = "NEFF"
	NodeFunctionalitySgw         NodeFunctionality = "SGW"
	NodeFunctionalityISmf        NodeFunctionality = "I_SMF"
	NodeFunctionalityEpdg        NodeFunctionality = "ePDG"
	NodeFunctionalityCef         NodeFunctionality = "CEF"
	NodeFunctionalityNef         NodeFunctionality = "NEF"
	NodeFunctionalityMnSProducer NodeFunctionality = "MnS_Producer"
	NodeFunctionalitySgsn        NodeFunctionality = "SGSN"
	NodeFunctionalityVSmf        NodeFunctionality = "V_SMF"
	NodeFunctionality5GDdnmf     NodeFunctionality = "5G_DDNMF"
	NodeFunctionalityImsNode     NodeFunctionality = "IMS_Node"
	NodeFunctionalityMmsNode     NodeFunctionality = "MMS_Node"
	NodeFunctionalityEes         NodeFunctionality = "EES"
	NodeFunctionalityPcf         NodeFunctionality = "PCF"
	NodeFunctionalityUdm         NodeFunctionality = "UDM"
	NodeFunctionalityUpf         NodeFunctionality = "UPF"
)

// TriggerType is the enumeration TriggerType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/TriggerType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type TriggerType string

// Values of TriggerType.
const (
	TriggerTypeQuotaThreshold                            TriggerType = "QUOTA_THRESHOLD"
	TriggerTypeQht                                       TriggerType = "QHT"
	TriggerTypeFinal                                     TriggerType = "FINAL"
	TriggerTypeQuotaExhausted                            TriggerType = "QUOTA_EXHAUSTED"
	TriggerTypeValidityTime                              TriggerType = "VALIDITY_TIME"
	TriggerTypeOtherQuotaType                            TriggerType = "OTHER_QUOTA_TYPE"
	TriggerTypeForcedReauthorisation                     TriggerType = "FORCED_REAUTHORISATION"
	TriggerTypeUnusedQuotaTimer                          TriggerType = "UNUSED_QUOTA_TIMER"
	TriggerTypeUnitCountInactivityTimer                  TriggerType = "UNIT_COUNT_INACTIVITY_TIMER"
	TriggerTypeAbnormalRelease                           TriggerType = "ABNORMAL_RELEASE"
	TriggerTypeQosChange                                 TriggerType = "QOS_CHANGE"
	TriggerTypeVolumeLimit                               TriggerType = "VOLUME_LIMIT"
	TriggerTypeTimeLimit                                 TriggerType = "TIME_LIMIT"
	TriggerTypeEventLimit                                TriggerType = "EVENT_LIMIT"
	TriggerTypePlmnChange                                TriggerType = "PLMN_CHANGE"
	TriggerTypeUserLocationChange                        TriggerType = "USER_LOCATION_CHANGE"
	TriggerTypeRatChange                                 TriggerType = "RAT_CHANGE"
	TriggerTypeSessionAmbrChange                         TriggerType = "SESSION_AMBR_CHANGE"
	TriggerTypeUeTimezoneChange                          TriggerType = "UE_TIMEZONE_CHANGE"
	TriggerTypeTariffTimeChange                          TriggerType = "TARIFF_TIME_CHANGE"
	TriggerTypeMaxNumberOfChangesInChargingConditions    TriggerType = "MAX_NUMBER_OF_CHANGES_IN_CHARGING_CONDITIONS"
	TriggerTypeManagementIntervention                    TriggerType = "MANAGEMENT_INTERVENTION"
	TriggerTypeChangeOfUePresenceInPresenceReportingArea TriggerType = "CHANGE_OF_UE_PRESENCE_IN_PRESENCE_REPORTING_AREA"
	TriggerTypeChangeOf3GPPPsDataOffStatus               TriggerType = "CHANGE_OF_3GPP_PS_DATA_OFF_STATUS"
	TriggerTypeServingNodeChange                         TriggerType = "SERVING_NODE_CHANGE"
	TriggerTypeRemovalOfUpf                              TriggerType = "REMOVAL_OF_UPF"
	TriggerTypeAdditionOfUpf                             TriggerType = "ADDITION_OF_UPF"
	TriggerTypeInsertionOfIsmf                           TriggerType = "INSERTION_OF_ISMF"
	TriggerTypeRemovalOfIsmf                             TriggerType = "REMOVAL_OF_ISMF"
	TriggerTypeChangeOfIsmf                              TriggerType = "CHANGE_OF_ISMF"
	TriggerTypeStartOfServiceDataFlow                    TriggerType = "START_OF_SERVICE_DATA_FLOW"
	TriggerTypeEcgiChange                                TriggerType = "ECGI_CHANGE"
	TriggerTypeTaiChange                                 TriggerType = "TAI_CHANGE"
	TriggerTypeHandoverCancel                            TriggerType = "HANDOVER_CANCEL"
	TriggerTypeHandoverStart                             TriggerType = "HANDOVER_START"
	TriggerTypeHandoverComplete                          TriggerType = "HANDOVER_COMPLETE"
	TriggerTypeGfbrGuaranteedStatusChange                TriggerType = "GFBR_GUARANTEED_STATUS_CHANGE"
	TriggerTypeAdditionOfAccess                          TriggerType = "ADDITION_OF_ACCESS"
	TriggerTypeRemovalOfAccess                           TriggerType = "REMOVAL_OF_ACCESS"
	TriggerTypeStartOfSdfAdditionalAccess                TriggerType = "START_OF_SDF_ADDITIONAL_ACCESS"
	TriggerTypeRedundantTransmissionChange               TriggerType = "REDUNDANT_TRANSMISSION_CHANGE"
	TriggerTypeCgiSaiChange                              TriggerType = "CGI_SAI_CHANGE"
	TriggerTypeRaiChange                                 TriggerType = "RAI_CHANGE"
	TriggerTypeJoinMulticast                             TriggerType = "JOIN_MULTICAST"
	TriggerTypeMbsDeliveryMethodChange                   TriggerType = "MBS_DELIVERY_METHOD_CHANGE"
	TriggerTypeLeaveMulticast                            TriggerType = "LEAVE_MULTICAST"
	TriggerTypeVsmfChange                                TriggerType = "VSMF_CHANGE"
	TriggerTypeSipInvite                                 TriggerType = "SIP_INVITE"
	TriggerTypeSipReInviteOrUpdate                       TriggerType = "SIP_RE-INVITE_OR_UPDATE"
	TriggerTypeSip2XXAcknowledging                       TriggerType = "SIP_2XX_ACKNOWLEDGING"
	TriggerTypeSip1XXProvisionalResponse                 TriggerType = "SIP_1XX_PROVISIONAL_RESPONSE"
	TriggerTypeSip4XX5XXOr6XXResponse                    TriggerType = "SIP_4XX_5XX_OR_6XX_RESPONSE"
	TriggerTypeAnyOtherSipMessage                        TriggerType = "ANY_OTHER_SIP_MESSAGE"
	TriggerTypeSipByeMessage                             TriggerType = "SIP_BYE_MESSAGE"
	TriggerTypeSip2XXAcknowledgingASipBye                TriggerType = "SIP_2XX_ACKNOWLEDGING_A_SIP_BYE"
	TriggerTypeAbortingASipSessionSetUp                  TriggerType = "ABORTING_A_SIP_SESSION_SET-UP"
	TriggerTypeSip3XXFinalOrRedirectionResponse          TriggerType = "SIP_3XX_FINAL_OR_REDIRECTION_RESPONSE"
	TriggerTypeSip4XX5XXOr6XXFinalResponse               TriggerType = "SIP_4XX_5XX_OR_6XX_FINAL_RESPONSE"
)

// TriggerCategory is the enumeration TriggerCategory of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/TriggerCategory).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type TriggerCategory string

// Values of TriggerCategory.
const (
	TriggerCategoryImmediateReport TriggerCategory = "IMMEDIATE_REPORT"
	TriggerCategoryDeferredReport  TriggerCategory = "DEFERRED_REPORT"
)

// QuotaManagementIndicator is the enumeration QuotaManagementIndicator of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/QuotaManagementIndicator).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type QuotaManagementIndicator string

// Values of QuotaManagementIndicator.
const (
	QuotaManagementIndicatorOnlineCharging           QuotaManagementIndicator = "ONLINE_CHARGING"
	QuotaManagementIndicatorOfflineCharging          QuotaManagementIndicator = "OFFLINE_CHARGING"
	QuotaManagementIndicatorQuotaManagementSuspended QuotaManagementIndicator = "QUOTA_MANAGEMENT_SUSPENDED"
)

// ResultCode is the enumeration ResultCode of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/ResultCode).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type ResultCode string

// Values of ResultCode.
const (
	ResultCodeSuccess                      ResultCode = "SUCCESS"
	ResultCodeEndUserServiceDenied         ResultCode = "END_USER_SERVICE_DENIED"
	ResultCodeQuotaManagementNotApplicable ResultCode = "QUOTA_MANAGEMENT_NOT_APPLICABLE"
	ResultCodeQuotaLimitReached            ResultCode = "QUOTA_LIMIT_REACHED"
	ResultCodeEndUserServiceRejected       ResultCode = "END_USER_SERVICE_REJECTED"
	ResultCodeUserUnknown                  ResultCode = "USER_UNKNOWN"
	ResultCodeRatingFailed                 ResultCode = "RATING_FAILED"
	ResultCodeQuotaManagement              ResultCode = "QUOTA_MANAGEMENT"
)

// FinalUnitAction is the enumeration FinalUnitAction of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/FinalUnitAction).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type FinalUnitAction string

// Values of FinalUnitAction.
const (
	FinalUnitActionTerminate      FinalUnitAction = "TERMINATE"
	FinalUnitActionRedirect       FinalUnitAction = "REDIRECT"
	FinalUnitActionRestrictAccess FinalUnitAction = "RESTRICT_ACCESS"
)

// RedirectAddressType is the enumeration RedirectAddressType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/RedirectAddressType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type RedirectAddressType string

// Values of RedirectAddressType.
const (
	RedirectAddressTypeIpv4 RedirectAddressType = "IPV4"
	RedirectAddressTypeIpv6 RedirectAddressType = "IPV6"
	RedirectAddressTypeUrl  RedirectAddressType = "URL"
	RedirectAddressTypeUri  RedirectAddressType = "URI"
)

// FailureHandling is the enumeration FailureHandling of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/FailureHandling).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type FailureHandling string

// Values of FailureHandling.
const (
	FailureHandlingTerminate         FailureHandling = "TERMINATE"
	FailureHandlingContinue          FailureHandling = "CONTINUE"
	FailureHandlingRetryAndTerminate FailureHandling = "RETRY_AND_TERMINATE"
)

// SessionFailover is the enumeration SessionFailover of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/SessionFailover).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type SessionFailover string

// Values of SessionFailover.
const (
	SessionFailoverFailoverNotSupported SessionFailover = "FAILOVER_NOT_SUPPORTED"
	SessionFailoverFailoverSupported    SessionFailover = "FAILOVER_SUPPORTED"
)

// NotificationType is the enumeration NotificationType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/NotificationType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type NotificationType string

// Values of NotificationType.
const (
	NotificationTypeReauthorization NotificationType = "REAUTHORIZATION"
	NotificationTypeAbortCharging   NotificationType = "ABORT_CHARGING"
)

// OneTimeEventType is the enumeration oneTimeEventType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/oneTimeEventType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type OneTimeEventType string

// Values of OneTimeEventType.
const (
	OneTimeEventTypeIec OneTimeEventType = "IEC"
	OneTimeEventTypePec OneTimeEventType = "PEC"
)

// ChargingCharacteristicsSelectionMode is the enumeration ChargingCharacteristicsSelectionMode of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/ChargingCharacteristicsSelectionMode).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type ChargingCharacteristicsSelectionMode string

// Values of ChargingCharacteristicsSelectionMode.
const (
	ChargingCharacteristicsSelectionModeHomeDefault     ChargingCharacteristicsSelectionMode = "HOME_DEFAULT"
	ChargingCharacteristicsSelectionModeRoamingDefault  ChargingCharacteristicsSelectionMode = "ROAMING_DEFAULT"
	ChargingCharacteristicsSelectionModeVisitingDefault ChargingCharacteristicsSelectionMode = "VISITING_DEFAULT"
)

// DnnSelectionMode is the enumeration dnnSelectionMode of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/dnnSelectionMode).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type DnnSelectionMode string

// Values of DnnSelectionMode.
const (
	DnnSelectionModeVerified         DnnSelectionMode = "VERIFIED"
	DnnSelectionModeUeDnnNotVerified DnnSelectionMode = "UE_DNN_NOT_VERIFIED"
	DnnSelectionModeNwDnnNotVerified DnnSelectionMode = "NW_DNN_NOT_VERIFIED"
)

// RoamerInOut is the enumeration RoamerInOut of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/RoamerInOut).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type RoamerInOut string

// Values of RoamerInOut.
const (
	RoamerInOutInBound  RoamerInOut = "IN_BOUND"
	RoamerInOutOutBound RoamerInOut = "OUT_BOUND"
)

// SMMessageType is the enumeration SMMessageType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/SMMessageType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type SMMessageType string

// Values of SMMessageType.
const (
	SMMessageTypeSubmission       SMMessageType = "SUBMISSION"
	SMMessageTypeDeliveryReport   SMMessageType = "DELIVERY_REPORT"
	SMMessageTypeSmServiceRequest SMMessageType = "SM_SERVICE_REQUEST"
	SMMessageTypeDelivery         SMMessageType = "DELIVERY"
)

// SMPriority is the enumeration SMPriority of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/SMPriority).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type SMPriority string

// Values of SMPriority.
const (
	SMPriorityLow    SMPriority = "LOW"
	SMPriorityNormal SMPriority = "NORMAL"
	SMPriorityHigh   SMPriority = "HIGH"
)

// DeliveryReportRequested is the enumeration DeliveryReportRequested of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/DeliveryReportRequested).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type DeliveryReportRequested string

// Values of DeliveryReportRequested.
const (
	DeliveryReportRequestedYes DeliveryReportRequested = "YES"
	DeliveryReportRequestedNo  DeliveryReportRequested = "NO"
)

// InterfaceType is the enumeration InterfaceType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/InterfaceType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type InterfaceType string

// Values of InterfaceType.
const (
	InterfaceTypeUnknown                InterfaceType = "UNKNOWN"
	InterfaceTypeMobileOriginating      InterfaceType = "MOBILE_ORIGINATING"
	InterfaceTypeMobileTerminating      InterfaceType = "MOBILE_TERMINATING"
	InterfaceTypeApplicationOriginating InterfaceType = "APPLICATION_ORIGINATING"
	InterfaceTypeApplicationTerminating InterfaceType = "APPLICATION_TERMINATING"
)

// ClassIdentifier is the enumeration ClassIdentifier of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/ClassIdentifier).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type ClassIdentifier string

// Values of ClassIdentifier.
const (
	ClassIdentifierPersonal      ClassIdentifier = "PERSONAL"
	ClassIdentifierAdvertisement ClassIdentifier = "ADVERTISEMENT"
	ClassIdentifierInformational ClassIdentifier = "INFORMATIONAL"
	ClassIdentifierAuto          ClassIdentifier = "AUTO"
)

// SMAddressType is the enumeration SMAddressType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/SMAddressType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type SMAddressType string

// Values of SMAddressType.
const (
	SMAddressTypeEmailAddress          SMAddressType = "EMAIL_ADDRESS"
	SMAddressTypeMsisdn                SMAddressType = "MSISDN"
	SMAddressTypeIpv4Address           SMAddressType = "IPV4_ADDRESS"
	SMAddressTypeIpv6Address           SMAddressType = "IPV6_ADDRESS"
	SMAddressTypeNumericShortcode      SMAddressType = "NUMERIC_SHORTCODE"
	SMAddressTypeAlphanumericShortcode SMAddressType = "ALPHANUMERIC_SHORTCODE"
	SMAddressTypeOther                 SMAddressType = "OTHER"
	SMAddressTypeImsi                  SMAddressType = "IMSI"
)

// SMServiceType is the enumeration SMServiceType of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/SMServiceType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type SMServiceType string

// Values of SMServiceType.
const (
	SMServiceTypeVas4smsShortMessageContentProcessing               SMServiceType = "VAS4SMS_SHORT_MESSAGE_CONTENT_PROCESSING"
	SMServiceTypeVas4smsShortMessageForwarding                      SMServiceType = "VAS4SMS_SHORT_MESSAGE_FORWARDING"
	SMServiceTypeVas4smsShortMessageForwardingMultipleSubscriptions SMServiceType = "VAS4SMS_SHORT_MESSAGE_FORWARDING_MULTIPLE_SUBSCRIPTIONS"
	SMServiceTypeVas4smsShortMessageFiltering                       SMServiceType = "VAS4SMS_SHORT_MESSAGE_FILTERING"
	SMServiceTypeVas4smsShortMessageReceipt                         SMServiceType = "VAS4SMS_SHORT_MESSAGE_RECEIPT"
	SMServiceTypeVas4smsShortMessageNetworkStorage                  SMServiceType = "VAS4SMS_SHORT_MESSAGE_NETWORK_STORAGE"
	SMServiceTypeVas4smsShortMessageToMultipleDestinations          SMServiceType = "VAS4SMS_SHORT_MESSAGE_TO_MULTIPLE_DESTINATIONS"
	SMServiceTypeVas4smsShortMessageVirtualPrivateNetworkVpn        SMServiceType = "VAS4SMS_SHORT_MESSAGE_VIRTUAL_PRIVATE_NETWORK(VPN)"
	SMServiceTypeVas4smsShortMessageAutoReply                       SMServiceType = "VAS4SMS_SHORT_MESSAGE_AUTO_REPLY"
	SMServiceTypeVas4smsShortMessagePersonalSignature               SMServiceType = "VAS4SMS_SHORT_MESSAGE_PERSONAL_SIGNATURE"
	SMServiceTypeVas4smsShortMessageDeferredDelivery                SMServiceType = "VAS4SMS_SHORT_MESSAGE_DEFERRED_DELIVERY"
)

// ReplyPathRequested is the enumeration ReplyPathRequested of TS32291_Nchf_ConvergedCharging.yaml (#/components/schemas/ReplyPathRequested).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type ReplyPathRequested string

// Values of ReplyPathRequested.
const (
	ReplyPathRequestedNoReplyPathSet ReplyPathRequested = "NO_REPLY_PATH_SET"
	ReplyPathRequestedReplyPathSet   ReplyPathRequested = "REPLY_PATH_SET"
)

// RatType is the enumeration RatType of TS29571_CommonData.yaml (#/components/schemas/RatType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type RatType string

// Values of RatType.
const (
	RatTypeNr               RatType = "NR"
	RatTypeEutra            RatType = "EUTRA"
	RatTypeWlan             RatType = "WLAN"
	RatTypeVirtual          RatType = "VIRTUAL"
	RatTypeNbiot            RatType = "NBIOT"
	RatTypeWireline         RatType = "WIRELINE"
	RatTypeWirelineCable    RatType = "WIRELINE_CABLE"
	RatTypeWirelineBbf      RatType = "WIRELINE_BBF"
	RatTypeLteM             RatType = "LTE-M"
	RatTypeNrU              RatType = "NR_U"
	RatTypeEutraU           RatType = "EUTRA_U"
	RatTypeTrustedN3ga      RatType = "TRUSTED_N3GA"
	RatTypeTrustedWlan      RatType = "TRUSTED_WLAN"
	RatTypeUtra             RatType = "UTRA"
	RatTypeGera             RatType = "GERA"
	RatTypeNrLeo            RatType = "NR_LEO"
	RatTypeNrMeo            RatType = "NR_MEO"
	RatTypeNrGeo            RatType = "NR_GEO"
	RatTypeNrOtherSat       RatType = "NR_OTHER_SAT"
	RatTypeNrRedcap         RatType = "NR_REDCAP"
	RatTypeWbEUtranLeo      RatType = "WB_E_UTRAN_LEO"
	RatTypeWbEUtranMeo      RatType = "WB_E_UTRAN_MEO"
	RatTypeWbEUtranGeo      RatType = "WB_E_UTRAN_GEO"
	RatTypeWbEUtranOthersat RatType = "WB_E_UTRAN_OTHERSAT"
	RatTypeNbIotLeo         RatType = "NB_IOT_LEO"
	RatTypeNbIotMeo         RatType = "NB_IOT_MEO"
	RatTypeNbIotGeo         RatType = "NB_IOT_GEO"
	RatTypeNbIotOthersat    RatType = "NB_IOT_OTHERSAT"
	RatTypeLteMLeo          RatType = "LTE_M_LEO"
	RatTypeLteMMeo          RatType = "LTE_M_MEO"
	RatTypeLteMGeo          RatType = "LTE_M_GEO"
	RatTypeLteMOthersat     RatType = "LTE_M_OTHERSAT"
)

// PduSessionType is the enumeration PduSessionType of TS29571_CommonData.yaml (#/components/schemas/PduSessionType).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type PduSessionType string

// Values of PduSessionType.
const (
	PduSessionTypeIpv4         PduSessionType = "IPV4"
	PduSessionTypeIpv6         PduSessionType = "IPV6"
	PduSessionTypeIpv4v6       PduSessionType = "IPV4V6"
	PduSessionTypeUnstructured PduSessionType = "UNSTRUCTURED"
	PduSessionTypeEthernet     PduSessionType = "ETHERNET"
)

// SscMode is the enumeration SscMode of TS29571_CommonData.yaml (#/components/schemas/SscMode).
// 3GPP enumerations are extensible (anyOf enum | string): any other string is kept as is.
type SscMode string

// Values of SscMode.
const (
	SscModeSscMode1 SscMode = "SSC_MODE_1"
	SscModeSscMode2 SscMode = "SSC_MODE_2"
	SscModeSscMode3 SscMode = "SSC_MODE_3"
)

// enumValues lists every value above; the decoder interns them so that decoding a
// known enumeration value does not allocate.
var enumValues = [...]string{
	"5G_DDNMF",
	"ABNORMAL_RELEASE",
	"ABORTING_A_SIP_SESSION_SET-UP",
	"ABORT_CHARGING",
	"ADDITION_OF_ACCESS",
	"ADDITION_OF_UPF",
	"ADVERTISEMENT",
	"ALPHANUMERIC_SHORTCODE",
	"AMF",
	"ANY_OTHER_SIP_MESSAGE",
	"APPLICATION_ORIGINATING",
	"APPLICATION_TERMINATING",
	"AUTO",
	"CEF",
	"CGI_SAI_CHANGE",
	"CHANGE_OF_3GPP_PS_DATA_OFF_STATUS",
	"CHANGE_OF_ISMF",
	"CHANGE_OF_UE_PRESENCE_IN_PRESENCE_REPORTING_AREA",
	"CONTINUE",
	"DEFERRED_REPORT",
	"DELIVERY",
	"DELIVERY_REPORT",
	"ECGI_CHANGE",
	"EES",
	"EMAIL_ADDRESS",
	"END_USER_SERVICE_DENIED",
	"END_USER_SERVICE_REJECTED",
	"ETHERNET",
	"EUTRA",
	"EUTRA_U",
	"EVENT_LIMIT",
	"FAILOVER_NOT_SUPPORTED",
	"FAILOVER_SUPPORTED",
	"FINAL",
	"FORCED_REAUTHORISATION",
	"GERA",
	"GFBR_GUARANTEED_STATUS_CHANGE",
	"HANDOVER_CANCEL",
	"HANDOVER_COMPLETE",
	"HANDOVER_START",
	"HIGH",
	"HOME_DEFAULT",
	"IEC",
	"IMMEDIATE_REPORT",
	"IMSI",
	"IMS_Node",
	"INFORMATIONAL",
	"INSERTION_OF_ISMF",
	"IN_BOUND",
	"IPV4",
	"IPV4V6",
	"IPV4_ADDRESS",
	"IPV6",
	"IPV6_ADDRESS",
	"I_SMF",
	"JOIN_MULTICAST",
	"LEAVE_MULTICAST",
	"LOW",
	"LTE-M",
	"LTE_M_GEO",
	"LTE_M_LEO",
	"LTE_M_MEO",
	"LTE_M_OTHERSAT",
	"MANAGEMENT_INTERVENTION",
	"MAX_NUMBER_OF_CHANGES_IN_CHARGING_CONDITIONS",
	"MBS_DELIVERY_METHOD_CHANGE",
	"MMS_Node",
	"MOBILE_ORIGINATING",
	"MOBILE_TERMINATING",
	"MSISDN",
	"MnS_Producer",
	"NBIOT",
	"NB_IOT_GEO",
	"NB_IOT_LEO",
	"NB_IOT_MEO",
	"NB_IOT_OTHERSAT",
	"NEF",
	"NEFF",
	"NO",
	"NORMAL",
	"NO_REPLY_PATH_SET",
	"NR",
	"NR_GEO",
	"NR_LEO",
	"NR_MEO",
	"NR_OTHER_SAT",
	"NR_REDCAP",
	"NR_U",
	"NUMERIC_SHORTCODE",
	"NW_DNN_NOT_VERIFIED",
	"OFFLINE_CHARGING",
	"ONLINE_CHARGING",
	"OTHER",
	"OTHER_QUOTA_TYPE",
	"OUT_BOUND",
	"PCF",
	"PEC",
	"PERSONAL",
	"PGW_C_SMF",
	"PLMN_CHANGE",
	"QHT",
	"QOS_CHANGE",
	"QUOTA_EXHAUSTED",
	"QUOTA_LIMIT_REACHED",
	"QUOTA_MANAGEMENT",
	"QUOTA_MANAGEMENT_NOT_APPLICABLE",
	"QUOTA_MANAGEMENT_SUSPENDED",
	"QUOTA_THRESHOLD",
	"RAI_CHANGE",
	"RATING_FAILED",
	"RAT_CHANGE",
	"REAUTHORIZATION",
	"REDIRECT",
	"REDUNDANT_TRANSMISSION_CHANGE",
	"REMOVAL_OF_ACCESS",
	"REMOVAL_OF_ISMF",
	"REMOVAL_OF_UPF",
	"REPLY_PATH_SET",
	"RESTRICT_ACCESS",
	"RETRY_AND_TERMINATE",
	"ROAMING_DEFAULT",
	"SERVING_NODE_CHANGE",
	"SESSION_AMBR_CHANGE",
	"SGSN",
	"SGW",
	"SIP_1XX_PROVISIONAL_RESPONSE",
	"SIP_2XX_ACKNOWLEDGING",
	"SIP_2XX_ACKNOWLEDGING_A_SIP_BYE",
	"SIP_3XX_FINAL_OR_REDIRECTION_RESPONSE",
	"SIP_4XX_5XX_OR_6XX_FINAL_RESPONSE",
	"SIP_4XX_5XX_OR_6XX_RESPONSE",
	"SIP_BYE_MESSAGE",
	"SIP_INVITE",
	"SIP_RE-INVITE_OR_UPDATE",
	"SMF",
	"SMS",
	"SMSF",
	"SM_SERVICE_REQUEST",
	"SSC_MODE_1",
	"SSC_MODE_2",
	"SSC_MODE_3",
	"START_OF_SDF_ADDITIONAL_ACCESS",
	"START_OF_SERVICE_DATA_FLOW",
	"SUBMISSION",
	"SUCCESS",
	"TAI_CHANGE",
	"TARIFF_TIME_CHANGE",
	"TERMINATE",
	"TIME_LIMIT",
	"TRUSTED_N3GA",
	"TRUSTED_WLAN",
	"UDM",
	"UE_DNN_NOT_VERIFIED",
	"UE_TIMEZONE_CHANGE",
	"UNIT_COUNT_INACTIVITY_TIMER",
	"UNKNOWN",
	"UNSTRUCTURED",
	"UNUSED_QUOTA_TIMER",
	"UPF",
	"URI",
	"URL",
	"USER_LOCATION_CHANGE",
	"USER_UNKNOWN",
	"UTRA",
	"VALIDITY_TIME",
	"VAS4SMS_SHORT_MESSAGE_AUTO_REPLY",
	"VAS4SMS_SHORT_MESSAGE_CONTENT_PROCESSING",
	"VAS4SMS_SHORT_MESSAGE_DEFERRED_DELIVERY",
	"VAS4SMS_SHORT_MESSAGE_FILTERING",
	"VAS4SMS_SHORT_MESSAGE_FORWARDING",
	"VAS4SMS_SHORT_MESSAGE_FORWARDING_MULTIPLE_SUBSCRIPTIONS",
	"VAS4SMS_SHORT_MESSAGE_NETWORK_STORAGE",
	"VAS4SMS_SHORT_MESSAGE_PERSONAL_SIGNATURE",
	"VAS4SMS_SHORT_MESSAGE_RECEIPT",
	"VAS4SMS_SHORT_MESSAGE_TO_MULTIPLE_DESTINATIONS",
	"VAS4SMS_SHORT_MESSAGE_VIRTUAL_PRIVATE_NETWORK(VPN)",
	"VERIFIED",
	"VIRTUAL",
	"VISITING_DEFAULT",
	"VOLUME_LIMIT",
	"VSMF_CHANGE",
	"V_SMF",
	"WB_E_UTRAN_GEO",
	"WB_E_UTRAN_LEO",
	"WB_E_UTRAN_MEO",
	"WB_E_UTRAN_OTHERSAT",
	"WIRELINE",
	"WIRELINE_BBF",
	"WIRELINE_CABLE",
	"WLAN",
	"YES",
	"ePDG",
}
