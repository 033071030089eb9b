package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	meminfo := write("meminfo", "MemTotal:       8388608 kB\nMemFree:         100 kB\n")
	unset := func(string) (string, bool) { return "", false }
	none := filepath.Join(dir, "absent")
	for _, c := range []struct {
		name         string
		lookup       func(string) (string, bool)
		meminfo, cg2 string
		cg1          string
		want         int64
	}{
		{"machine", unset, meminfo, none, none, 6 << 30},
		{"cgroup v2 below the machine", unset, meminfo, write("v2", "4294967296\n"), none, 3 << 30},
		{"cgroup v2 max", unset, meminfo, write("v2max", "max\n"), none, 6 << 30},
		{"cgroup v1 unlimited", unset, meminfo, none, write("v1", "9223372036854771712\n"), 6 << 30},
		{"cgroup v1 limit", unset, meminfo, none, write("v1l", "2147483648\n"), 3 << 29},
		{"GOMEMLIMIT set", func(k string) (string, bool) { return "1GiB", k == "GOMEMLIMIT" }, meminfo, none, none, 0},
		{"nothing readable", unset, none, none, none, 0},
		{"bad meminfo", unset, write("bad", "MemTotal: lots\n"), none, none, 0},
	} {
		debug.SetMemoryLimit(1 << 62)
		if got := setMemoryLimit(c.lookup, c.meminfo, c.cg2, c.cg1); got != c.want {
			t.Errorf("%s: limit %d, want %d", c.name, got, c.want)
		}
		if now := debug.SetMemoryLimit(-1); c.want > 0 && now != c.want {
			t.Errorf("%s: runtime limit %d, want %d", c.name, now, c.want)
		}
	}
}
