package chf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// Session is the state of one charging data resource (ChargingDataRef). It
// is what store.go makes durable before each answer, in the binary form of
// sessioncodec.go. Adding a field here or to Group: add it to
// sessionFields or groupFields there, with the next tag (the codec test
// fails until you do), and to copyFrom in service.go. The json tags are
// the form written by older versions, which Load still reads: keep them.
type Session struct {
	Ref        string         `json:"ref"`
	SUPI       string         `json:"supi"`
	AccountID  string         `json:"account"`
	PlanID     string         `json:"plan"`
	Currency   money.Currency `json:"currency"`
	NFName     string         `json:"nf_name,omitempty"`
	NFFunction string         `json:"nf_function,omitempty"`
	NotifyURI  string         `json:"notify_uri,omitempty"`
	ChargingID uint32         `json:"charging_id,omitempty"`
	DNN        string         `json:"dnn,omitempty"`
	RATType    string         `json:"rat,omitempty"`
	GPSI       string         `json:"gpsi,omitempty"`

	Created      time.Time `json:"created"`
	LastActivity time.Time `json:"last_activity"`
	// LastISN is the invocationSequenceNumber of the last request answered,
	// LastStatus and LastBody its answer (for retransmissions).
	LastISN    uint32          `json:"last_isn"`
	LastStatus int             `json:"last_status"`
	LastBody   json.RawMessage `json:"last_body,omitempty"`
	// CreateBody is the create's answer, for a retransmitted create, as
	// written by older versions; this one keeps it as LastBody until the
	// first update (createAnswer).
	CreateBody json.RawMessage `json:"create_body,omitempty"`

	// RecordSeq numbers the CHF-CDRs of the session; RecordOpened is when
	// the open record started.
	RecordSeq    uint32    `json:"record_seq"`
	RecordOpened time.Time `json:"record_opened"`

	Groups []*Group `json:"groups,omitempty"`
	// Closed is set by release (or the idle sweep); the session is kept a
	// while as a tombstone so that a retransmitted release gets its answer.
	Closed bool `json:"closed,omitempty"`

	mu sync.Mutex
}

// Group is one rating group of a session: its open reservation and the
// usage not yet written to a CHF-CDR.
type Group struct {
	RG uint32 `json:"rg"`
	// Reservation is the open reservation's id ("" when none), Held its
	// amount and Granted the units it covers.
	Reservation string        `json:"reservation,omitempty"`
	Held        money.Decimal `json:"held,omitzero"`
	Granted     uint64        `json:"granted,omitempty"`
	// Grants counts reservations made, to name the next one.
	Grants uint32 `json:"grants,omitempty"`
	// FinalGranted is set when the last grant carried a
	// finalUnitIndication: the balance allows no more.
	FinalGranted bool `json:"final,omitempty"`

	// Usage since the open CHF-CDR started.
	Uplink   uint64        `json:"ul,omitempty"`
	Downlink uint64        `json:"dl,omitempty"`
	Volume   uint64        `json:"vol,omitempty"`
	Time     uint64        `json:"time,omitempty"`
	Units    uint64        `json:"units,omitempty"`
	Amount   money.Decimal `json:"amount,omitzero"`
	First    time.Time     `json:"first,omitzero"`
	Last     time.Time     `json:"last,omitzero"`
	LSNs     []uint64      `json:"lsns,omitempty"`
	// Unbilled is usage rated above what the balance could cover (a
	// prepaid account that ran dry between grants); it is in the CDR.
	Unbilled money.Decimal `json:"unbilled,omitzero"`
}

func (s *Session) group(rg uint32) *Group {
	for _, g := range s.Groups {
		if g.RG == rg {
			return g
		}
	}
	g := &Group{RG: rg}
	s.Groups = append(s.Groups, g)
	return g
}

// hasUsage reports whether the group has usage not yet in a CDR.
func (g *Group) hasUsage() bool {
	return g.Volume != 0 || g.Time != 0 || g.Units != 0 || !g.Amount.IsZero() || len(g.LSNs) != 0
}

func (g *Group) resetUsage() {
	g.Uplink, g.Downlink, g.Volume, g.Time, g.Units = 0, 0, 0, 0, 0
	g.Amount, g.Unbilled = money.Decimal{}, money.Decimal{}
	g.First, g.Last, g.LSNs = time.Time{}, time.Time{}, nil
}

// newRef derives the ChargingDataRef of a create from what identifies the
// request itself, so that a retransmitted create (same consumer, subscriber,
// charging id, time stamp and sequence number) finds the resource the first
// one made instead of opening a second session.
func newRef(req *nchf.ChargingDataRequest) string {
	h := sha256.New()
	w := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	w(req.NfConsumerIdentification.NFName)
	w(req.NfConsumerIdentification.NFIPv4Address)
	w(string(req.NfConsumerIdentification.NodeFunctionality))
	w(req.SubscriberIdentifier)
	w(strconv.FormatUint(uint64(req.ChargingId), 10))
	if p := req.PDUSessionChargingInformation; p != nil {
		w(strconv.FormatUint(uint64(p.ChargingId), 10))
		w(p.SMFchargingId)
	}
	w(req.InvocationTimeStamp.UTC().Format(time.RFC3339Nano))
	w(strconv.FormatUint(uint64(req.InvocationSequenceNumber), 10))
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}

// sessions is the node's table of sessions (NE shared memory, S0.3),
// sharded to keep lock hold times short.
type sessions struct {
	shards [64]struct {
		mu sync.Mutex
		m  map[string]*Session
	}
	// byAccount finds the sessions of an account (for notifications after
	// a top-up or a status change). An account's sessions never move: the
	// account of a session is fixed at create.
	accMu     sync.Mutex
	byAccount map[string]map[string]*Session
}

func newSessions() *sessions {
	t := &sessions{byAccount: make(map[string]map[string]*Session)}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*Session)
	}
	return t
}

// ofAccount returns the sessions (open and tombstones) of an account.
func (t *sessions) ofAccount(account string) []*Session {
	t.accMu.Lock()
	defer t.accMu.Unlock()
	out := make([]*Session, 0, len(t.byAccount[account]))
	for _, s := range t.byAccount[account] {
		out = append(out, s)
	}
	return out
}

func (t *sessions) shard(ref string) int {
	var h uint32 = 2166136261
	for i := 0; i < len(ref); i++ {
		h = (h ^ uint32(ref[i])) * 16777619
	}
	return int(h % uint32(len(t.shards)))
}

func (t *sessions) get(ref string) *Session {
	sh := &t.shards[t.shard(ref)]
	sh.mu.Lock()
	s := sh.m[ref]
	sh.mu.Unlock()
	return s
}

// add stores s unless the ref is taken, and returns the session under the ref.
func (t *sessions) add(s *Session) (*Session, bool) {
	sh := &t.shards[t.shard(s.Ref)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if cur, ok := sh.m[s.Ref]; ok {
		return cur, false
	}
	sh.m[s.Ref] = s
	t.accMu.Lock()
	m := t.byAccount[s.AccountID]
	if m == nil {
		m = make(map[string]*Session)
		t.byAccount[s.AccountID] = m
	}
	m[s.Ref] = s
	t.accMu.Unlock()
	return s, true
}

func (t *sessions) remove(ref string) {
	sh := &t.shards[t.shard(ref)]
	sh.mu.Lock()
	s := sh.m[ref]
	delete(sh.m, ref)
	sh.mu.Unlock()
	if s == nil {
		return
	}
	t.accMu.Lock()
	if m := t.byAccount[s.AccountID]; m != nil {
		delete(m, ref)
		if len(m) == 0 {
			delete(t.byAccount, s.AccountID)
		}
	}
	t.accMu.Unlock()
}

// all returns the sessions (a snapshot of the table).
func (t *sessions) all() []*Session {
	var out []*Session
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, s := range sh.m {
			out = append(out, s)
		}
		sh.mu.Unlock()
	}
	return out
}

func (t *sessions) count() (open, closed int) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, s := range sh.m {
			if s.Closed {
				closed++
			} else {
				open++
			}
		}
		sh.mu.Unlock()
	}
	return open, closed
}

// entomb reduces a closed session to what its tombstone answers with: a
// retransmitted release (LastISN, LastStatus, LastBody), a late update
// (404) or create (createAnswer), and its deletion (AccountID). Its rating
// groups hold nothing any more (released) and their usage is in the final
// CHF-CDR already.
func (s *Session) entomb() {
	*s = Session{Ref: s.Ref, SUPI: s.SUPI, AccountID: s.AccountID, Currency: s.Currency, Created: s.Created,
		LastActivity: s.LastActivity, LastISN: s.LastISN, LastStatus: s.LastStatus, LastBody: s.LastBody, Closed: true}
}

// createAnswer is the body of the answer to a create retransmitted for this
// session: the create's own answer while it is the last one (LastStatus 201),
// as is. Once an update has been answered, the SMF has the create's answer
// (it used the ref), so a create that still arrives is a stale duplicate:
// it gets a minimal ChargingDataResponse (the mandatory fields, no grants),
// with no charge, as any retransmission.
func (s *Session) createAnswer(req *nchf.ChargingDataRequest) []byte {
	switch {
	case s.LastStatus == http.StatusCreated && len(s.LastBody) > 0:
		return s.LastBody
	case len(s.CreateBody) > 0:
		return s.CreateBody
	}
	resp := nchf.ChargingDataResponse{InvocationTimeStamp: s.Created, InvocationSequenceNumber: req.InvocationSequenceNumber}
	return nchf.AppendChargingDataResponse(nil, &resp)
}
