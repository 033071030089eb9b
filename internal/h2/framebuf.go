package h2

// frameBuf collects the frames a connection's Framer encodes, under the
// connection's lock, until its writer goroutine takes them all for one
// write (swap). Server and client batch their writes this way.
type frameBuf struct{ b []byte }

func (f *frameBuf) Write(p []byte) (int, error) {
	f.b = append(f.b, p...)
	return len(p), nil
}

// swap returns the frames collected so far and collects the next ones into
// spare's array (the writer's previous batch, see reusable). Under the
// connection's lock.
func (f *frameBuf) swap(spare []byte) []byte {
	b := f.b
	f.b = spare[:0]
	return b
}

// maxSpare: a batch buffer that grew beyond this is dropped after its write
// rather than kept for the next batch.
const maxSpare = 1 << 20

// reusable returns a written batch's buffer for the next swap, or nil when
// it grew too large to keep.
func reusable(b []byte) []byte {
	if cap(b) > maxSpare {
		return nil
	}
	return b
}
