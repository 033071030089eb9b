package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// rateInput is the body of POST /api/v1/rate.
type rateInput struct {
	PlanID      string           `json:"plan_id"`
	AccountID   string           `json:"account_id"`
	Subscriber  *subscriberRef   `json:"subscriber"`
	Service     string           `json:"service"`
	Destination string           `json:"destination"`
	Start       *time.Time       `json:"start"`
	Quantity    json.RawMessage  `json:"quantity"`
	Counters    []rating.Counter `json:"counters"`
	Explain     *bool            `json:"explain"`
}

// subscriberRef identifies a subscriber by one of its identities.
type subscriberRef struct {
	IMSI       string `json:"imsi"`
	MSISDN     string `json:"msisdn"`
	SUPI       string `json:"supi"`
	ExternalID string `json:"external_id"`
}

// rateOutput is the answer: the rating result and whose it is.
type rateOutput struct {
	AccountID    string `json:"account_id,omitempty"`
	SubscriberID string `json:"subscriber_id,omitempty"`
	*rating.Result
}

// rate rates one event with an explanation and changes nothing: no balance
// moves and no counter is stored (S1.2 rating on demand).
func (a *API) rate(w http.ResponseWriter, r *http.Request) error {
	var in rateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Service == "" {
		return badRequest("service", "service is required")
	}
	if len(in.Quantity) == 0 {
		return badRequest("quantity", "quantity is required")
	}
	ev := rating.Event{Service: in.Service, Destination: in.Destination, Counters: in.Counters, Explain: true, Start: a.now()}
	if in.Start != nil {
		ev.Start = *in.Start
	}
	if in.Explain != nil {
		ev.Explain = *in.Explain
	}
	out := rateOutput{AccountID: in.AccountID, Result: &rating.Result{}}

	// Whose plan: given, or the account's (found from a subscriber) at Start.
	given := 0
	for _, s := range []bool{in.PlanID != "", in.AccountID != "", in.Subscriber != nil} {
		if s {
			given++
		}
	}
	if given != 1 {
		return badRequest("", "give exactly one of plan_id, account_id or subscriber")
	}
	if in.Subscriber != nil {
		sub, err := a.Subscribers.FindSubscriber(r.Context(), store.Lookup(*in.Subscriber))
		if err != nil {
			return prefixed(err, "subscriber")
		}
		out.SubscriberID, out.AccountID = sub.ID, sub.AccountID
		if sub.Status != account.Active {
			return badRequest("subscriber", "subscriber %s is %s", sub.ID, sub.Status)
		}
	}
	ev.PlanID = in.PlanID
	if out.AccountID != "" {
		as, err := a.Assignments.PlanAt(r.Context(), out.AccountID, ev.Start)
		if err != nil {
			return err
		}
		ev.PlanID = as.PlanID
	}

	plan, ok := a.Rater.Plan(ev.PlanID)
	if !ok {
		return &Error{Code: CodeRatingFailed, Message: "plan " + strconv.Quote(ev.PlanID) + " is not loaded",
			Field: "plan_id", status: http.StatusUnprocessableEntity}
	}
	q, err := parseQuantity(in.Quantity, plan, in.Service)
	if err != nil {
		return err
	}
	ev.Quantity = q
	if err := a.Rater.Rate(&ev, out.Result); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseQuantity accepts an unsigned integer, or a string in the service's
// unit such as "5m" (seconds) or "10MiB" (bytes).
func parseQuantity(raw json.RawMessage, p *rating.Plan, service string) (uint64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] != '"' {
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return 0, badRequest("quantity", "quantity must be an unsigned integer or a string such as \"5m\" or \"10MiB\", got %s", raw)
		}
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, badRequest("quantity", "quantity: %v", err)
	}
	u, ok := p.ServiceUnit(service)
	if !ok {
		return 0, badRequest("service", "plan %s has no service %q", p.ID, service)
	}
	n, err := usage.ParseQuantity(s, u)
	if err != nil {
		return 0, badRequest("quantity", "%v", err)
	}
	return n, nil
}

// prefixed maps err and prefixes its field paths (for nested inputs).
func prefixed(err error, prefix string) error {
	return prefixFields(toError(err), prefix)
}
