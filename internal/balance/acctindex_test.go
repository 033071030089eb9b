package balance

import (
	"fmt"
	"testing"
)

// TestAcctIndex: every account is found by its id through the table's
// growth, an absent id is not, and an id is indexed once.
func TestAcctIndex(t *testing.T) {
	var slabs [][]account
	x := newAcctIndex(0)
	const n = 10_000
	for i := range n {
		if i%1000 == 0 {
			slabs = append(slabs, make([]account, 0, 1000))
		}
		k := len(slabs) - 1
		slabs[k] = append(slabs[k], account{id: fmt.Sprintf("acct-%d", i), ord: uint32(i)})
		if !x.add(slabs, k, len(slabs[k])-1) {
			t.Fatalf("add %d: reported indexed already", i)
		}
		if i%997 == 0 { // lookups while the table grows
			for j := 0; j <= i; j += 101 {
				if a := x.get(slabs, fmt.Sprintf("acct-%d", j)); a == nil || a.ord != uint32(j) {
					t.Fatalf("after %d adds: get acct-%d = %v", i+1, j, a)
				}
			}
		}
	}
	if x.len() != n || len(x.slots)*3 < n*4 {
		t.Fatalf("len %d with %d slots", x.len(), len(x.slots))
	}
	for i := range n {
		if a := x.get(slabs, fmt.Sprintf("acct-%d", i)); a == nil || a.ord != uint32(i) || a != &slabs[i/1000][i%1000] {
			t.Fatalf("get acct-%d = %p, want %p", i, a, &slabs[i/1000][i%1000])
		}
	}
	for _, id := range []string{"", "acct-", "acct-10000", "acct-01", "ACCT-1"} {
		if a := x.get(slabs, id); a != nil {
			t.Errorf("get %q = %q, want nil", id, a.id)
		}
	}
	// A second account with an indexed id is refused.
	slabs[0] = append(slabs[0][:1000:1000], account{id: "acct-5"})
	if x.add(slabs, 0, 1000) || x.len() != n {
		t.Fatalf("a second acct-5 was indexed (len %d)", x.len())
	}
	if a := x.get(slabs, "acct-5"); a != &slabs[0][5] {
		t.Fatal("acct-5 no longer finds the first one")
	}
	var empty acctIndex
	if empty.get(slabs, "acct-1") != nil || empty.len() != 0 {
		t.Fatal("the zero index finds something")
	}
}
