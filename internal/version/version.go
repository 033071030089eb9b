// Package version reports which build of tollgate is running. Release builds
// set the variables with the linker:
//
//	go build -ldflags "-X github.com/tollgate-billing/tollgate/internal/version.Version=v0.1.0 \
//	  -X github.com/tollgate-billing/tollgate/internal/version.Commit=$(git rev-parse HEAD) \
//	  -X github.com/tollgate-billing/tollgate/internal/version.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// Otherwise the values come from the module and VCS information the Go
// toolchain embeds (runtime/debug.ReadBuildInfo).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set with -ldflags "-X ...". Empty means: take it from the build info.
var (
	Version   string
	Commit    string
	BuildDate string
)

// Info describes the running build.
type Info struct {
	Version   string // "v0.1.0", or "dev" for an untagged build
	Commit    string // VCS revision, "" when unknown; suffixed "-dirty" for modified trees
	BuildDate string // RFC 3339 build (or commit) time, "" when unknown
	GoVersion string // runtime.Version()
	Platform  string // GOOS/GOARCH
}

// Get returns the build information, preferring the linker-set variables.
func Get() Info {
	return get(Version, Commit, BuildDate, debug.ReadBuildInfo)
}

func get(version, commit, date string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{
		Version:   version,
		Commit:    commit,
		BuildDate: date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := read(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.BuildDate == "" {
					info.BuildDate = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && commit == "" && info.Commit != "" {
			info.Commit += "-dirty"
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// String formats the build information on one line, e.g.
// "tollgate v0.1.0 (commit 1a2b3c4d5e6f, built 2026-01-02T03:04:05Z, go1.26.8 linux/amd64)".
func (i Info) String() string {
	s := "tollgate " + i.Version + " ("
	if i.Commit != "" {
		c := i.Commit
		if base, dirty := strings.CutSuffix(c, "-dirty"); len(base) == 40 { // a full git hash
			c = base[:12]
			if dirty {
				c += "-dirty"
			}
		}
		s += "commit " + c + ", "
	}
	if i.BuildDate != "" {
		s += "built " + i.BuildDate + ", "
	}
	return s + fmt.Sprintf("%s %s)", i.GoVersion, i.Platform)
}

// String returns Get().String().
func String() string { return Get().String() }
