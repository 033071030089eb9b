package chf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/rating"
)

// --- sessions as the service makes them ---

type codecBalances struct{}

func (codecBalances) Txn(_ context.Context, _ string, fn func(balance.Doer) error) error {
	return fn(codecBalances{})
}

func (codecBalances) Do(_ context.Context, op *balance.Op) (balance.Result, error) {
	return balance.Result{Kind: op.Kind, GrantedAmount: op.Amount}, nil
}

type codecRater struct{}

func (codecRater) Rate(_ *rating.Event, res *rating.Result) error {
	res.Amount = money.MustParse("0.0125")
	return nil
}

type codecDirectory struct{}

func (codecDirectory) Lookup(_ context.Context, supi string, _ time.Time) (Subscription, error) {
	cur, _ := money.LookupCurrency("EUR")
	return Subscription{SUPI: supi, GPSI: "msisdn-491701234567", AccountID: "acct-0001", Currency: cur, PlanID: "data-basic", Active: true}, nil
}

// codecCapture keeps a copy of every session saved.
type codecCapture struct {
	mu    sync.Mutex
	saved []*Session
}

func (c *codecCapture) Save(_ context.Context, _ balance.Doer, s *Session) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saved = append(c.saved, s.clone())
	return nil
}
func (c *codecCapture) Delete(context.Context, balance.Doer, *Session) error { return nil }
func (c *codecCapture) Load(context.Context, func(*Session) error) error     { return nil }

// realSessions runs a data session (create, updates with two rating groups,
// release) through the service and returns every session it saved.
func realSessions(tb testing.TB) []*Session {
	tb.Helper()
	store := &codecCapture{}
	svc, err := New(Config{CHF: config.Default().CHF, Balances: codecBalances{}, Rater: codecRater{},
		Directory: codecDirectory{}, Sessions: store})
	if err != nil {
		tb.Fatal(err)
	}
	h := svc.Handler()
	post := func(path string, body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
		if rec.Code >= 300 {
			tb.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec
	}
	create, err := os.ReadFile("../../examples/nchf-create.json")
	if err != nil {
		tb.Fatal(err)
	}
	loc := post("/nchf-convergedcharging/v3/chargingdata", create).Header().Get("Location")
	base := "/nchf-convergedcharging/v3/chargingdata/" + loc[strings.LastIndex(loc, "/")+1:]
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	req := nchf.ChargingDataRequest{
		SubscriberIdentifier:     "imsi-001010000000001",
		NfConsumerIdentification: nchf.NFIdentification{NFName: "8f2b1c3e-0000-4000-8000-000000000001", NodeFunctionality: nchf.NodeFunctionalitySmf},
	}
	for i := uint32(1); i <= 3; i++ {
		req.InvocationSequenceNumber = i
		req.InvocationTimeStamp = at.Add(time.Duration(i) * time.Minute)
		req.MultipleUnitUsage = []nchf.MultipleUnitUsage{
			{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 10 << 20},
				UsedUnitContainer: []nchf.UsedUnitContainer{{UplinkVolume: 1 << 20, DownlinkVolume: 3 << 20, TotalVolume: 4 << 20,
					LocalSequenceNumber: uint64(i), Triggers: []nchf.Trigger{{TriggerType: nchf.TriggerTypeVolumeLimit, TriggerCategory: nchf.TriggerCategoryImmediateReport}}}}},
			{RatingGroup: 20, RequestedUnit: &nchf.RequestedUnit{Time: 300},
				UsedUnitContainer: []nchf.UsedUnitContainer{{Time: 120, LocalSequenceNumber: uint64(i)}}},
		}
		post(base+"/update", nchf.AppendChargingDataRequest(nil, &req))
	}
	req.InvocationSequenceNumber = 4
	req.MultipleUnitUsage = req.MultipleUnitUsage[:1]
	req.MultipleUnitUsage[0].RequestedUnit = nil
	post(base+"/release", nchf.AppendChargingDataRequest(nil, &req))
	if len(store.saved) < 5 {
		tb.Fatalf("%d sessions saved", len(store.saved))
	}
	return store.saved
}

// --- a random session, every field filled by reflection ---

// sessionGen fills a value field by field, by reflection, so that a field
// added to Session or Group is filled (and must round-trip) without this
// test changing; a field of a type it does not know fails the test.
type sessionGen struct {
	r *rand.Rand
	// full: every field non-zero (and slices non-empty), so that a field
	// the codec drops cannot go unnoticed.
	full bool
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	decimalType  = reflect.TypeFor[money.Decimal]()
	currencyType = reflect.TypeFor[money.Currency]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	groupsType   = reflect.TypeFor[[]*Group]()
	uintsType    = reflect.TypeFor[[]uint64]()
)

func (g *sessionGen) session(tb testing.TB) *Session {
	s := &Session{}
	g.fill(tb, reflect.ValueOf(s).Elem())
	return s
}

func (g *sessionGen) fill(tb testing.TB, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if !g.full && g.r.IntN(4) == 0 {
			continue // zero
		}
		g.value(tb, t.Name()+"."+f.Name, v.Field(i))
	}
}

func (g *sessionGen) value(tb testing.TB, name string, v reflect.Value) {
	r := g.r
	switch v.Type() {
	case timeType:
		v.Set(reflect.ValueOf(g.time()))
		return
	case decimalType:
		coefs := []int64{math.MinInt64, math.MaxInt64, -1, 1, r.Int64(), -r.Int64N(1e6), r.Int64N(1e12)}
		d, err := money.New(coefs[r.IntN(len(coefs))], uint8(r.IntN(money.MaxScale+1)))
		if err != nil {
			tb.Fatal(err)
		}
		if d.Coef() == 0 && d.Scale() == 0 {
			d, _ = money.New(0, 2)
		}
		v.Set(reflect.ValueOf(d))
		return
	case currencyType:
		all := money.Currencies()
		v.Set(reflect.ValueOf(all[r.IntN(len(all))]))
		return
	case rawType:
		n := r.IntN(300)
		if !g.full && r.IntN(3) == 0 {
			n = 0 // empty, not nil
		} else if n == 0 {
			n = 1
		}
		b := make(json.RawMessage, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		v.Set(reflect.ValueOf(b))
		return
	case groupsType:
		n := 1 + r.IntN(4)
		if !g.full && r.IntN(4) == 0 {
			n = 0
		}
		gs := make([]*Group, n)
		for i := range gs {
			gs[i] = &Group{}
			g.fill(tb, reflect.ValueOf(gs[i]).Elem())
		}
		v.Set(reflect.ValueOf(gs))
		return
	case uintsType:
		n := 1 + r.IntN(10)
		if !g.full && r.IntN(4) == 0 {
			n = 0
		}
		x := make([]uint64, n)
		for i := range x {
			x[i] = r.Uint64() >> r.UintN(64)
		}
		v.Set(reflect.ValueOf(x))
		return
	}
	switch v.Kind() {
	case reflect.String:
		n := 1 + r.IntN(40)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256)) // not only UTF-8: the codec keeps bytes
		}
		v.SetString(string(b))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint32, reflect.Uint64:
		x := r.Uint64() >> r.UintN(64)
		if r.IntN(8) == 0 {
			x = math.MaxUint64
		}
		x &= 1<<(8*v.Type().Size()) - 1
		if x == 0 {
			x = 1
		}
		v.SetUint(x)
	case reflect.Int:
		x := r.Int64() >> r.UintN(63)
		if r.IntN(2) == 0 {
			x = -x
		}
		if x == 0 {
			x = 200
		}
		v.SetInt(x)
	default:
		tb.Fatalf("%s: the generator (and perhaps the session codec) does not know %s; teach them", name, v.Type())
	}
}

func (g *sessionGen) time() time.Time {
	r := g.r
	locs := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+1800), time.FixedZone("X", -7*3600)}
	var t time.Time
	switch r.IntN(5) {
	case 0:
		t = time.Now() // with a monotonic reading
	case 1:
		t = time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9))
	case 2:
		t = time.Unix(r.Int64()>>r.UintN(64), r.Int64N(1e9)) // far past and future
	case 3:
		t = time.Date(1, 1, 1, 0, 0, 0, 1+r.IntN(1e9-1), time.UTC) // near the zero time
	default:
		t = time.Date(2026, 11, 22, 10, r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
	}
	return t.In(locs[r.IntN(len(locs))])
}

// --- comparison ---

// sameSession compares field by field, by reflection: times with Equal
// (the codec keeps the instant, not the zone) and everything else exactly
// (DeepEqual: nil and empty slices differ).
func sameSession(want, got *Session) error {
	return sameValue("Session", reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem())
}

func sameValue(path string, want, got reflect.Value) error {
	switch want.Type() {
	case timeType:
		w, g := want.Interface().(time.Time), got.Interface().(time.Time)
		if !w.Equal(g) || w.IsZero() != g.IsZero() {
			return fmt.Errorf("%s: %v, want %v", path, g, w)
		}
		return nil
	case groupsType:
		if want.IsNil() != got.IsNil() || want.Len() != got.Len() {
			return fmt.Errorf("%s: %#v, want %#v", path, got.Interface(), want.Interface())
		}
		for i := range want.Len() {
			if err := sameValue(fmt.Sprintf("%s[%d]", path, i), want.Index(i).Elem(), got.Index(i).Elem()); err != nil {
				return err
			}
		}
		return nil
	}
	if want.Kind() == reflect.Struct && (want.Type() == reflect.TypeFor[Session]() || want.Type() == reflect.TypeFor[Group]()) {
		for i := range want.NumField() {
			f := want.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if err := sameValue(path+"."+f.Name, want.Field(i), got.Field(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		return fmt.Errorf("%s: %#v, want %#v", path, got.Interface(), want.Interface())
	}
	return nil
}

func roundTrip(tb testing.TB, s *Session) *Session {
	tb.Helper()
	data := encodeSession(s)
	got := &Session{}
	if err := decodeSessionBlob(data, got); err != nil {
		tb.Fatalf("decode: %v\n% x", err, data)
	}
	if err := sameSession(s, got); err != nil {
		tb.Fatalf("round trip: %v", err)
	}
	return got
}

// --- tests ---

// TestSessionCodecCoversEveryField fails when a field is added to Session
// or Group but not to the codec's field lists (or a tag is misnumbered).
func TestSessionCodecCoversEveryField(t *testing.T) {
	check := func(typ reflect.Type, tags []byte, names []string) {
		listed := map[string]bool{}
		for i, name := range names {
			if int(tags[i]) != i+1 {
				t.Errorf("%s field %s has tag %d at index %d: tags must be index+1", typ.Name(), name, tags[i], i)
			}
			if _, ok := typ.FieldByName(name); !ok {
				t.Errorf("the codec lists %s.%s, which is not a field", typ.Name(), name)
			}
			listed[name] = true
		}
		exported := 0
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			exported++
			if !listed[f.Name] {
				t.Errorf("%s.%s is not in the session codec: add it to %sFields in sessioncodec.go with the next tag",
					typ.Name(), f.Name, strings.ToLower(typ.Name()))
			}
		}
		if exported != len(names) {
			t.Errorf("%s has %d exported fields, the codec %d", typ.Name(), exported, len(names))
		}
	}
	var tags []byte
	var names []string
	for _, f := range sessionFields {
		tags, names = append(tags, f.tag), append(names, f.name)
	}
	check(reflect.TypeFor[Session](), tags, names)
	tags, names = nil, nil
	for _, f := range groupFields {
		tags, names = append(tags, f.tag), append(names, f.name)
	}
	check(reflect.TypeFor[Group](), tags, names)
}

// TestSessionCodecRoundTrip: randomized sessions (seeded), every field
// filled in half of them, come back exactly; times as the same instant, in
// UTC.
func TestSessionCodecRoundTrip(t *testing.T) {
	for seed := range uint64(2000) {
		g := &sessionGen{r: rand.New(rand.NewPCG(seed, 0x5e55)), full: seed%2 == 0}
		s := g.session(t)
		got := roundTrip(t, s)
		if g.full {
			// Every field was set: none may come back zero.
			v := reflect.ValueOf(got).Elem()
			for f := range v.Type().Fields() {
				if f.IsExported() && v.FieldByIndex(f.Index).IsZero() {
					t.Fatalf("seed %d: %s came back zero", seed, f.Name)
				}
			}
		}
		for _, tm := range []time.Time{got.Created, got.LastActivity, got.RecordOpened} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("seed %d: time decoded in %v, want UTC", seed, tm.Location())
			}
		}
	}
}

// TestSessionCodecEdges: zero values, nil versus empty, extreme values.
func TestSessionCodecEdges(t *testing.T) {
	dec := func(c int64, s uint8) money.Decimal { d, _ := money.New(c, s); return d }
	cases := map[string]*Session{
		"zero":           {},
		"empty slices":   {Groups: []*Group{}, LastBody: json.RawMessage{}, CreateBody: json.RawMessage{}},
		"nil and empty":  {LastBody: json.RawMessage{}, Groups: []*Group{{LSNs: []uint64{}}, {LSNs: nil}, {}}},
		"zero decimal 2": {Groups: []*Group{{Held: dec(0, 2), Amount: dec(0, 18), Unbilled: dec(-1, 0)}}},
		"extremes": {ChargingID: math.MaxUint32, LastISN: math.MaxUint32, RecordSeq: math.MaxUint32, LastStatus: math.MinInt64,
			Created: time.Unix(math.MinInt64, 0), LastActivity: time.Unix(math.MaxInt64, 999999999), RecordOpened: time.Unix(0, 1),
			Groups: []*Group{{RG: math.MaxUint32, Granted: math.MaxUint64, Held: dec(math.MinInt64, 18), Amount: dec(math.MaxInt64, 18),
				LSNs: []uint64{0, math.MaxUint64}, First: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Last: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}}},
		"empty currency": {Ref: "r", Currency: money.Currency{}},
		"zoned zero":     {Created: time.Time{}.In(time.FixedZone("", 3600))},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, s) })
	}
	// A zero session is the magic byte and the end tag.
	if b := encodeSession(&Session{}); !bytes.Equal(b, []byte{sessionMagic, 0}) {
		t.Errorf("zero session: % x", b)
	}
}

// TestSessionCodecRealSessions: the sessions a data session saves round
// trip, and the binary form is smaller than the JSON form.
func TestSessionCodecRealSessions(t *testing.T) {
	for i, s := range realSessions(t) {
		roundTrip(t, s)
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		bin := encodeSession(s)
		t.Logf("session %d: %d groups, binary %d bytes, JSON %d bytes", i, len(s.Groups), len(bin), len(js))
		if len(bin) >= len(js) {
			t.Errorf("session %d: binary %d bytes, JSON %d", i, len(bin), len(js))
		}
	}
}

// TestSessionCodecReadsJSON: a session stored by an older version (JSON)
// loads through EngineStore.Load, beside one in the binary form.
func TestSessionCodecReadsJSON(t *testing.T) {
	sessions := realSessions(t)
	last := sessions[len(sessions)-2].clone()
	last.Ref = "stored-as-json"
	old, err := json.Marshal(last)
	if err != nil {
		t.Fatal(err)
	}
	// A blob as an older version wrote it, literally (field names are the
	// old storage format).
	literal := []byte(`{"ref":"r1","supi":"imsi-001010000000001","account":"a","plan":"p","currency":"EUR",` +
		`"nf_name":"smf","charging_id":4711,"created":"2026-11-22T11:00:00.123456789+01:00",` +
		`"last_activity":"2026-11-22T10:05:00Z","last_isn":1,"last_status":200,"last_body":{"invocationSequenceNumber":1},` +
		`"record_seq":2,"record_opened":"0001-01-01T00:00:00Z","groups":[{"rg":10,"reservation":"chf:r1:1:10:reserve",` +
		`"held":"1.2500","granted":10485760,"grants":1,"final":true,"ul":1,"dl":2,"vol":3,"amount":"0.05",` +
		`"first":"2026-11-22T10:01:00Z","last":"2026-11-22T10:04:00Z","lsns":[1,2]}]}`)
	blobs := map[string][]byte{"chf:old": old, "chf:literal": literal, "chf:new": encodeSession(sessions[0])}
	store := EngineStore{States: func(_ context.Context, prefix string, fn func(name, account string, data []byte) error) error {
		for name, data := range blobs {
			if err := fn(name, "a", data); err != nil {
				return err
			}
		}
		return nil
	}}
	loaded := map[string]*Session{}
	if err := store.Load(t.Context(), func(s *Session) error { loaded[s.Ref] = s; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 3 {
		t.Fatalf("%d sessions loaded", len(loaded))
	}
	if err := sameSession(last, loaded[last.Ref]); err != nil {
		t.Errorf("JSON session: %v", err)
	}
	if err := sameSession(sessions[0], loaded[sessions[0].Ref]); err != nil {
		t.Errorf("binary session: %v", err)
	}
	lit := loaded["r1"]
	created := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	if lit == nil || lit.Currency.Code != "EUR" || lit.Currency.Exponent != 2 || !lit.Created.Equal(created) || !lit.RecordOpened.IsZero() ||
		len(lit.Groups) != 1 || lit.Groups[0].Held.String() != "1.2500" || !lit.Groups[0].FinalGranted || len(lit.Groups[0].LSNs) != 2 {
		t.Fatalf("literal JSON session: %+v", lit)
	}
	// What the JSON form keeps and the binary form does not: the zone. The
	// instant is the same; the CHF compares times with Before/After/Sub
	// and writes CDRs in UTC.
	if _, off := lit.Created.Zone(); off != 3600 {
		t.Errorf("JSON keeps the offset: %d", off)
	}
	again := roundTrip(t, lit)
	if again.Created.Location() != time.UTC || !again.Created.Equal(created) {
		t.Errorf("binary: %v", again.Created)
	}
}

// TestSessionCodecErrors: bad blobs are errors that say what is wrong.
func TestSessionCodecErrors(t *testing.T) {
	good := encodeSession(realSessions(t)[2])
	// Every proper prefix is refused (the end tag makes truncation visible).
	for n := range len(good) {
		if err := decodeSessionBlob(good[:n], &Session{}); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded", n, len(good))
		}
	}
	cases := []struct {
		blob []byte
		want string
	}{
		{nil, "empty session blob"},
		{[]byte{0xF2, 0}, "version 2"},
		{[]byte{0x00}, "not a session blob (first byte 0x00)"},
		{[]byte(`{"ref":1}`), "JSON session"},
		{[]byte(`{"groups":[{"rg":1},null]}`), "JSON session: group 1 is null"},
		{append(bytes.Clone(good), 0), "1 bytes after the end"},
		{[]byte{sessionMagic}, "truncated: no end tag"},
		{[]byte{sessionMagic, 1, 5, 'a'}, "Ref (tag 1 at byte 1): string length of 5 at byte 3, only 1 bytes left"},
		{[]byte{sessionMagic, 2, 1, 'a', 1, 1, 'b', 0}, "tag 1 at byte 4 after tag 2"},
		{[]byte{sessionMagic, 99, 0}, "unknown field tag 99"},
		{[]byte{sessionMagic, 5, 3, 'X', 'Y', 'Z', 0}, `Currency (tag 5 at byte 1): money: unknown currency "XYZ"`},
		{[]byte{sessionMagic, 9, 0x80, 0x80, 0x80, 0x80, 0x10, 0}, "ChargingID (tag 9 at byte 1): 4294967296 does not fit 32 bits"},
		{[]byte{sessionMagic, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}, "overflows 64 bits"},
		{[]byte{sessionMagic, 13, 2, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0}, "Created (tag 13 at byte 1): time with 1000000000 nanoseconds"},
		{[]byte{sessionMagic, 21, 1, 3, 1, 19, 0, 0}, "Groups (tag 21 at byte 1): group 0: Held (tag 3 at byte 3): decimal scale 19"},
		{[]byte{sessionMagic, 21, 1, 15, 200, 1, 0, 0}, "LSNs (tag 15 at byte 3): LSN count of 200"},
		{[]byte{sessionMagic, 21, 0xff, 0xff, 0x03, 0}, "group count of 65535"},
		{append([]byte{sessionMagic, 17}, make([]byte, balance.MaxStateBytes)...), "at most"},
	}
	for _, c := range cases {
		err := decodeSessionBlob(c.blob, &Session{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("% x: %v, want %q", c.blob[:min(len(c.blob), 16)], err, c.want)
		}
	}
}

// TestSessionCloneCoversEveryField: copyFrom (service.go) copies every
// field, as the codec does.
func TestSessionCloneCoversEveryField(t *testing.T) {
	g := &sessionGen{r: rand.New(rand.NewPCG(1, 2)), full: true}
	s := g.session(t)
	if err := sameSession(s, s.clone()); err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodeSession: any blob decodes or is an error, never a panic; what
// decodes encodes to a blob that decodes to the same session.
func FuzzDecodeSession(f *testing.F) {
	for _, s := range realSessions(f) {
		f.Add(encodeSession(s))
		if js, err := json.Marshal(s); err == nil {
			f.Add(js)
		}
	}
	for seed := range uint64(20) {
		g := &sessionGen{r: rand.New(rand.NewPCG(seed, 7)), full: seed%2 == 0}
		f.Add(encodeSession(g.session(f)))
	}
	f.Add([]byte{sessionMagic, 0})
	f.Add([]byte{0xF2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Session{}
		if err := decodeSessionBlob(data, s); err != nil {
			return
		}
		again := &Session{}
		if err := decodeSessionBlob(encodeSession(s), again); err != nil {
			t.Fatalf("re-encoded session does not decode: %v", err)
		}
		if err := sameSession(s, again); err != nil {
			t.Fatalf("re-encoded session differs: %v", err)
		}
	})
}

// --- benchmarks: the binary form against encoding/json ---

func benchSession(b *testing.B) *Session {
	ss := realSessions(b)
	return ss[len(ss)-2] // the last update: two groups, both bodies
}

func BenchmarkSessionEncode(b *testing.B) {
	s := benchSession(b)
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			n = len(encodeSession(s))
		}
		b.ReportMetric(float64(n), "bytes/blob")
	})
	b.Run("binary-append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = appendSession(buf[:0], s)
		}
		b.ReportMetric(float64(len(buf)), "bytes/blob")
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			data, err := json.Marshal(s)
			if err != nil {
				b.Fatal(err)
			}
			n = len(data)
		}
		b.ReportMetric(float64(n), "bytes/blob")
	})
}

func BenchmarkSessionDecode(b *testing.B) {
	s := benchSession(b)
	bin := encodeSession(s)
	js, err := json.Marshal(s)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := decodeSessionBlob(bin, &Session{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := json.Unmarshal(js, &Session{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
