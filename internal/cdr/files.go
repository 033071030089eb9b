package cdr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// File names: <prefix>-<UTC open time>-<seq>.jsonl, with ".part" appended
// while the file is open.
const (
	nameTimeLayout = "20060102T150405.000"
	finalSuffix    = ".jsonl"
	partSuffix     = ".jsonl.part"
	filePerm       = 0o640 // records name subscribers: not world-readable
	dirPerm        = 0o750
)

// fileName returns the final name (without ".part") of file seq opened at t.
func fileName(prefix string, t time.Time, seq uint64) string {
	b := make([]byte, 0, len(prefix)+40)
	b = append(b, prefix...)
	b = append(b, '-')
	b = t.UTC().AppendFormat(b, nameTimeLayout)
	b = append(b, '-')
	s := strconv.FormatUint(seq, 10)
	for i := len(s); i < 6; i++ {
		b = append(b, '0')
	}
	b = append(b, s...)
	b = append(b, finalSuffix...)
	return string(b)
}

// parseName reports whether name is one of this prefix's files, its
// sequence number, and whether it is still a ".part".
func parseName(prefix, name string) (seq uint64, part, ok bool) {
	rest, found := strings.CutPrefix(name, prefix+"-")
	if !found {
		return 0, false, false
	}
	if r, found := strings.CutSuffix(rest, partSuffix); found {
		rest, part = r, true
	} else if r, found := strings.CutSuffix(rest, finalSuffix); found {
		rest = r
	} else {
		return 0, false, false
	}
	if len(rest) < len(nameTimeLayout)+2 || rest[len(nameTimeLayout)] != '-' {
		return 0, false, false
	}
	if _, err := time.Parse(nameTimeLayout, rest[:len(nameTimeLayout)]); err != nil {
		return 0, false, false
	}
	digits := rest[len(nameTimeLayout)+1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false, false
		}
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false, false
	}
	return seq, part, true
}

// seqFile is the hidden file that remembers the last sequence number used,
// so that numbering continues even after a collector has moved every file
// away.
func seqFile(prefix string) string { return "." + prefix + ".seq" }

func readSeq(dir, prefix string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, seqFile(prefix)))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", seqFile(prefix), err)
	}
	return n, nil
}

// writeSeq replaces the sequence file atomically. The caller syncs the
// directory.
func writeSeq(dir, prefix string, seq uint64) error {
	tmp := filepath.Join(dir, seqFile(prefix)+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return err
	}
	_, err = f.Write(strconv.AppendUint(nil, seq, 10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, seqFile(prefix)))
}

// syncDir makes renames and new entries in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; NTFS journals renames
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// recoverDir finalizes the ".part" files a crashed writer left in dir and
// returns the highest sequence number in use (files and sequence file).
func (w *Writer) recoverDir() (uint64, error) {
	dir, prefix := w.cfg.Dir, w.cfg.Prefix
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("cdr: %w", err)
	}
	maxSeq, err := readSeq(dir, prefix)
	if err != nil {
		w.log.Warn("cdr: ignoring unreadable sequence file; numbering continues from the files", "dir", dir, "err", err)
		maxSeq = 0
	}
	changed := false
	for _, e := range entries {
		seq, part, ok := parseName(prefix, e.Name())
		if !ok || e.IsDir() {
			continue
		}
		maxSeq = max(maxSeq, seq)
		if !part {
			continue
		}
		if err := w.recoverPart(e.Name()); err != nil {
			return 0, err
		}
		changed = true
	}
	if changed {
		if err := syncDir(dir); err != nil {
			return 0, fmt.Errorf("cdr: %w", err)
		}
	}
	return maxSeq, nil
}

// recoverPart finalizes one leftover ".part": it cuts an incomplete last
// line (bytes after the last newline), then renames the file to ".jsonl", or
// removes it if nothing complete is left.
func (w *Writer) recoverPart(name string) error {
	path := filepath.Join(w.cfg.Dir, name)
	final := strings.TrimSuffix(path, ".part")
	if _, err := os.Lstat(final); err == nil {
		w.log.Error("cdr: leftover file not recovered: its final name exists; resolve by hand", "file", path)
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("cdr: recover %s: %w", name, err)
	}
	size, keep, err := completeLength(f)
	if err == nil && keep < size {
		err = f.Truncate(keep)
	}
	if err == nil && keep > 0 {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cdr: recover %s: %w", name, err)
	}
	if keep == 0 {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("cdr: recover %s: %w", name, err)
		}
		w.log.Warn("cdr: removed leftover file without a complete record", "file", path, "dropped_bytes", size)
		return nil
	}
	if err := os.Rename(path, final); err != nil {
		return fmt.Errorf("cdr: recover %s: %w", name, err)
	}
	w.m.files.Inc()
	if keep < size {
		w.log.Warn("cdr: recovered leftover file, incomplete last line dropped", "file", final, "dropped_bytes", size-keep)
	} else {
		w.log.Info("cdr: recovered leftover file", "file", final)
	}
	return nil
}

// completeLength returns the size of f and the length of its complete lines
// (up to and including the last '\n'), reading backwards from the end.
func completeLength(f *os.File) (size, keep int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size = fi.Size()
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil && err != io.EOF {
			return 0, 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return size, start + int64(i) + 1, nil
		}
		end = start
	}
	return size, 0, nil
}
