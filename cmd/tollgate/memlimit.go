package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitShare is the share of the machine's (or the container's)
// memory tollgate takes as its soft heap limit unless GOMEMLIMIT says
// otherwise. With GOGC=400 the heap may grow to five times the live data
// between collections: on a node whose live data is a large part of its
// memory that would run out of memory; the limit makes the collector work
// harder instead as the heap nears it (docs/operations.md).
const memoryLimitShare = 0.75

// setMemoryLimit sets the soft heap limit to memoryLimitShare of the
// memory available (the smaller of the machine's and the cgroup's), when
// GOMEMLIMIT is unset and that can be read. It returns the limit set, 0
// when none.
func setMemoryLimit(lookup func(string) (string, bool), meminfo, cgroupV2, cgroupV1 string) int64 {
	if _, set := lookup("GOMEMLIMIT"); set {
		return 0
	}
	avail := memTotal(meminfo)
	for _, f := range []string{cgroupV2, cgroupV1} {
		if n := cgroupLimit(f); n > 0 && (avail == 0 || n < avail) {
			avail = n
		}
	}
	if avail <= 0 {
		return 0
	}
	limit := int64(float64(avail) * memoryLimitShare)
	debug.SetMemoryLimit(limit)
	return limit
}

// memTotal reads MemTotal (bytes) from a /proc/meminfo file; 0 if it
// cannot.
func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return kb << 10
	}
	return 0
}

// cgroupLimit reads a cgroup memory limit file (memory.max of v2,
// memory.limit_in_bytes of v1): bytes, or 0 for "max", a huge v1 value or
// a file that cannot be read.
func cgroupLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0
	}
	return n
}
