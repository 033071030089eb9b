//go:build !unix

package server

// LockFile is the name of the lock file in the data directory.
const LockFile = "tollgate.lock"

// dirLock is a no-op where flock(2) is not available.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() {}
