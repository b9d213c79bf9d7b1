package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"

	"github.com/mailtrail/mailtrail/timeline"
)

// prepareOne prepares one fetched message. Should parsing panic (a bug
// met by one odd message), the message is kept raw and flagged rather
// than blocking its folder: the panic is logged with its stack.
func (s *Syncer) prepareOne(m *fetchedMsg, rep, role string) (pr *Prepared) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("parser panic: message stored raw", "rep", rep, "uid", m.uid, "panic", r, "stack", string(debug.Stack()))
			pr = salvage(m.raw, m.size, rep, "the parser failed on this message: "+fmt.Sprint(r))
		}
	}()
	if m.headersOnly {
		return s.pipe.prepareHeadersOnly(m.raw, m.size, rep, role)
	}
	return s.pipe.Prepare(m.raw, rep, role)
}

// salvage is a message that could not be handled (the parser panicked,
// PostgreSQL refused it): stored raw, marked malformed with problem, on no
// timeline.
func salvage(raw []byte, size int64, rep, problem string) *Prepared {
	sum := sha256.Sum256(raw)
	h := hex.EncodeToString(sum[:])
	return &Prepared{rep: rep, rec: timeline.Captured{
		DedupKey: "sha256:" + h, ContentHash: h, Size: int(min(max(size, int64(len(raw))), 1<<31-1)), Raw: raw,
		Malformed: true, Problems: []string{problem}, Noise: "unmatched",
	}}
}
