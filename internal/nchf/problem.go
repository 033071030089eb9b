package nchf

import (
	"errors"
	"net/http"
)

// Causes of ProblemDetails.cause, in one place.
//
// The CHF's application errors are those of TS 32.291 table 6.1.7.3-1
// (statuses checked against the Release 17 text: CHARGING_FAILED and
// RE_AUTHORIZATION_FAILED 400, CHARGING_NOT_APPLICABLE, END_USER_REQUEST_DENIED,
// QUOTA_LIMIT_REACHED and END_USER_REQUEST_REJECTED 403, USER_UNKNOWN 404); the
// protocol errors are the generic ones of TS 29.500 table 5.2.7.2-1, which
// every SBI producer uses (TS 32.291 clause 6.1.7.2 refers to them).
const (
	// TS 32.291 application errors.
	CauseChargingFailed         = "CHARGING_FAILED"           // 400: incomplete or erroneous charging information
	CauseReAuthorizationFailed  = "RE_AUTHORIZATION_FAILED"   // 400: re-authorization with erroneous information
	CauseChargingNotApplicable  = "CHARGING_NOT_APPLICABLE"   // 403: service granted without charging
	CauseUserUnknown            = "USER_UNKNOWN"              // 404: subscriber unknown to the CHF
	CauseEndUserRequestDenied   = "END_USER_REQUEST_DENIED"   // 403: denied (service restrictions)
	CauseQuotaLimitReached      = "QUOTA_LIMIT_REACHED"       // 403: credit exhausted
	CauseEndUserRequestRejected = "END_USER_REQUEST_REJECTED" // 403: rejected (e.g. account restrictions)

	// TS 29.500 protocol errors used by the codec and the server.
	CauseInvalidMsgFormat             = "INVALID_MSG_FORMAT"     // 400
	CauseMandatoryIEIncorrect         = "MANDATORY_IE_INCORRECT" // 400
	CauseMandatoryIEMissing           = "MANDATORY_IE_MISSING"   // 400
	CauseOptionalIEIncorrect          = "OPTIONAL_IE_INCORRECT"  // 400
	CauseUnspecifiedMsgFailure        = "UNSPECIFIED_MSG_FAILURE"
	CauseContextNotFound              = "CONTEXT_NOT_FOUND"                // 404: e.g. unknown ChargingDataRef
	CauseResourceURIStructureNotFound = "RESOURCE_URI_STRUCTURE_NOT_FOUND" // 404
	CauseSystemFailure                = "SYSTEM_FAILURE"                   // 500
	CauseInsufficientResources        = "INSUFFICIENT_RESOURCES"           // 500
	CauseNFCongestion                 = "NF_CONGESTION"                    // 503
)

// causeStatus maps every cause above to its HTTP status.
var causeStatus = map[string]int{
	CauseChargingFailed:               http.StatusBadRequest,
	CauseReAuthorizationFailed:        http.StatusBadRequest,
	CauseChargingNotApplicable:        http.StatusForbidden,
	CauseUserUnknown:                  http.StatusNotFound,
	CauseEndUserRequestDenied:         http.StatusForbidden,
	CauseQuotaLimitReached:            http.StatusForbidden,
	CauseEndUserRequestRejected:       http.StatusForbidden,
	CauseInvalidMsgFormat:             http.StatusBadRequest,
	CauseMandatoryIEIncorrect:         http.StatusBadRequest,
	CauseMandatoryIEMissing:           http.StatusBadRequest,
	CauseOptionalIEIncorrect:          http.StatusBadRequest,
	CauseUnspecifiedMsgFailure:        http.StatusBadRequest,
	CauseContextNotFound:              http.StatusNotFound,
	CauseResourceURIStructureNotFound: http.StatusNotFound,
	CauseSystemFailure:                http.StatusInternalServerError,
	CauseInsufficientResources:        http.StatusInternalServerError,
	CauseNFCongestion:                 http.StatusServiceUnavailable,
}

var causeTitle = map[string]string{
	CauseChargingFailed:               "Charging failed",
	CauseReAuthorizationFailed:        "Re-authorization failed",
	CauseChargingNotApplicable:        "Charging not applicable",
	CauseUserUnknown:                  "User unknown",
	CauseEndUserRequestDenied:         "End user request denied",
	CauseQuotaLimitReached:            "Quota limit reached",
	CauseEndUserRequestRejected:       "End user request rejected",
	CauseInvalidMsgFormat:             "Invalid message format",
	CauseMandatoryIEIncorrect:         "Mandatory IE incorrect",
	CauseMandatoryIEMissing:           "Mandatory IE missing",
	CauseOptionalIEIncorrect:          "Optional IE incorrect",
	CauseUnspecifiedMsgFailure:        "Unspecified message failure",
	CauseContextNotFound:              "Context not found",
	CauseResourceURIStructureNotFound: "Resource URI structure not found",
	CauseSystemFailure:                "System failure",
	CauseInsufficientResources:        "Insufficient resources",
	CauseNFCongestion:                 "NF congestion",
}

// StatusOf returns the HTTP status of a cause above (500 for an unknown one).
func StatusOf(cause string) int {
	if s, ok := causeStatus[cause]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem builds the ProblemDetails of a cause, with its status and title.
func Problem(cause, detail string) ProblemDetails {
	return ProblemDetails{Title: causeTitle[cause], Status: StatusOf(cause), Detail: detail, Cause: cause}
}

// Constructors of the CHF's answers, so that handlers do not pick statuses.

// ChargingFailed is 400 CHARGING_FAILED.
func ChargingFailed(detail string) ProblemDetails { return Problem(CauseChargingFailed, detail) }

// ChargingNotApplicable is 403 CHARGING_NOT_APPLICABLE.
func ChargingNotApplicable(detail string) ProblemDetails {
	return Problem(CauseChargingNotApplicable, detail)
}

// UserUnknown is 404 USER_UNKNOWN.
func UserUnknown(detail string) ProblemDetails { return Problem(CauseUserUnknown, detail) }

// QuotaLimitReached is 403 QUOTA_LIMIT_REACHED.
func QuotaLimitReached(detail string) ProblemDetails {
	return Problem(CauseQuotaLimitReached, detail)
}

// EndUserRequestDenied is 403 END_USER_REQUEST_DENIED.
func EndUserRequestDenied(detail string) ProblemDetails {
	return Problem(CauseEndUserRequestDenied, detail)
}

// SessionNotFound is the answer to an update or release of an unknown
// ChargingDataRef: 404 with TS 29.500's CONTEXT_NOT_FOUND (TS 32.291 defines
// no cause of its own for it) and the path variable as invalid parameter.
func SessionNotFound(ref string) ProblemDetails {
	p := Problem(CauseContextNotFound, "no charging data resource "+ref)
	p.InvalidParams = []InvalidParam{{Param: "{ChargingDataRef}", Reason: "unknown charging data reference"}}
	return p
}

// SystemFailure is 500 SYSTEM_FAILURE.
func SystemFailure(detail string) ProblemDetails { return Problem(CauseSystemFailure, detail) }

// ProblemDetails maps a decoding error to the answer of TS 29.500 clause
// 5.2.7: 400 with INVALID_MSG_FORMAT for malformed JSON, MANDATORY_IE_MISSING
// for an absent mandatory attribute, MANDATORY_IE_INCORRECT or
// OPTIONAL_IE_INCORRECT for a wrong type or value, and 413 for a body beyond
// the size limit; invalidParams names the attribute as a JSON Pointer.
func (e *DecodeError) ProblemDetails() ProblemDetails {
	var cause string
	switch e.Kind {
	case KindTooLarge:
		return ProblemDetails{Title: "Payload too large", Status: http.StatusRequestEntityTooLarge, Detail: e.Reason}
	case KindSyntax, KindLimit:
		cause = CauseInvalidMsgFormat
	case KindMissing:
		cause = CauseMandatoryIEMissing
	default:
		cause = CauseOptionalIEIncorrect
		if e.Mandatory {
			cause = CauseMandatoryIEIncorrect
		}
	}
	p := Problem(cause, e.Error())
	if e.Pointer != "" || e.Kind != KindSyntax {
		p.InvalidParams = []InvalidParam{{Param: e.Pointer, Reason: e.Reason}}
	}
	return p
}

// ProblemOf returns the ProblemDetails for err: a *DecodeError's own, or 500
// SYSTEM_FAILURE for anything else.
func ProblemOf(err error) ProblemDetails {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.ProblemDetails()
	}
	return SystemFailure(err.Error())
}
