package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	bi := func(v string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			info := &debug.BuildInfo{Main: debug.Module{Version: v}}
			for i := 0; i+1 < len(settings); i += 2 {
				info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return info, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name                  string
		version, commit, date string
		read                  func() (*debug.BuildInfo, bool)
		wantV, wantC, wantD   string
		wantStr               string
	}{
		{"ldflags win", "v1.2.3", "abc", "2026-01-01", bi("v9", "vcs.revision", sha, "vcs.time", "x"),
			"v1.2.3", "abc", "2026-01-01", "tollgate v1.2.3 (commit abc, built 2026-01-01, "},
		{"build info", "", "", "", bi("v0.4.0", "vcs.revision", sha, "vcs.time", "2026-02-03T04:05:06Z", "vcs.modified", "true"),
			"v0.4.0", sha + "-dirty", "2026-02-03T04:05:06Z", "tollgate v0.4.0 (commit 0123456789ab-dirty, built 2026-02-03T04:05:06Z, "},
		{"devel", "", "", "", bi("(devel)"), "dev", "", "", "tollgate dev (go"},
		{"no build info", "", "", "", none, "dev", "", "", "tollgate dev (go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := get(tt.version, tt.commit, tt.date, tt.read)
			if got.Version != tt.wantV || got.Commit != tt.wantC || got.BuildDate != tt.wantD {
				t.Errorf("get = %+v; want %q %q %q", got, tt.wantV, tt.wantC, tt.wantD)
			}
			if !strings.HasPrefix(got.String(), tt.wantStr) || !strings.HasSuffix(got.String(), got.Platform+")") {
				t.Errorf("String() = %q; want prefix %q", got.String(), tt.wantStr)
			}
		})
	}
	if s := String(); !strings.HasPrefix(s, "tollgate ") {
		t.Errorf("String() = %q", s)
	}
}
