package ingest

import "fmt"

// prepareHeadersOnly prepares a message over sync.max_message_size from
// its header alone: it is matched and put on timelines like any other, its
// size is the real one, and a problem note says the body was left on the
// server.
func (p *Pipeline) prepareHeadersOnly(header []byte, size int64, rep, role string) *Prepared {
	pr := p.Prepare(header, rep, role)
	pr.rec.Size = int(min(size, 1<<31-1))
	pr.rec.Problems = append(pr.rec.Problems, fmt.Sprintf("message of %s over the size limit: headers only", megabytes(size)))
	return pr
}

// megabytes formats a size for people: "73 MB", "0.4 MB".
func megabytes(n int64) string {
	mb := float64(n) / (1 << 20)
	if mb >= 10 {
		return fmt.Sprintf("%.0f MB", mb)
	}
	return fmt.Sprintf("%.1f MB", mb)
}
