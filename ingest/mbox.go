package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// mboxReader splits an mbox file into messages as it reads, holding one
// message at a time (at most limit bytes of it), so that a 2 GB export
// costs no more memory than its largest message.
//
// Separators are "From " lines (the postmark). Writers escape body lines
// that begin with "From " as ">From " (mboxo, Thunderbird, Apple Mail) or
// add one '>' to every line matching ^>*From (mboxrd); both are read by
// removing one '>' from lines matching ^>+From , which restores mboxrd
// exactly and mboxo except for a body line that was ">From " to begin with.
// A body line beginning "From " that a careless writer left unescaped is
// kept as text unless it looks like a postmark (it carries a time, as
// every writer's does: "From - Tue Mar  3 10:00:00 2026",
// "From a@b.example Tue Mar 03 10:00:00 +0000 2026").
type mboxReader struct {
	br    *bufio.Reader
	limit int
	off   int64 // bytes consumed
	index int   // messages returned
	next  int64 // offset of the separator of the next message; -1 at EOF
	first bool
}

// mboxMessage is one message of an mbox file.
type mboxMessage struct {
	Raw       []byte // without the separator, unescaped; at most limit bytes
	Index     int    // 1-based
	Offset    int64  // of its "From " line in the file
	Size      int64  // bytes in the file, separator excluded
	Truncated bool   // Raw holds the first limit bytes only
}

// postmark matches the time in a "From " separator line.
var postmark = regexp.MustCompile(`\d?\d:\d\d`)

// errNotMbox says the file does not start like an mbox.
var errNotMbox = errors.New(`not an mbox file: it does not start with a "From " line`)

func newMboxReader(r io.Reader, limit int) *mboxReader {
	return &mboxReader{br: bufio.NewReaderSize(r, 64<<10), limit: limit, first: true}
}

// Next returns the next message, or io.EOF after the last one. A read
// error names the message index and byte offset it happened at.
func (m *mboxReader) Next() (*mboxMessage, error) {
	if m.first {
		m.first = false
		head, err := m.br.Peek(5)
		if len(head) == 0 && errors.Is(err, io.EOF) {
			m.next = -1 // an empty mbox: a folder with no mail
			return nil, io.EOF
		}
		if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) { // a UTF-8 byte order mark
			m.br.Discard(3)
			m.off = 3
			head, _ = m.br.Peek(5)
		}
		if !bytes.Equal(head, []byte("From ")) {
			return nil, errNotMbox
		}
		m.next = m.off
		if err := m.skipLine(); err != nil {
			return nil, fmt.Errorf("message 1 at byte %d: read: %w", m.next, err)
		}
	}
	if m.next < 0 {
		return nil, io.EOF
	}
	m.index++
	msg := &mboxMessage{Index: m.index, Offset: m.next}
	var buf bytes.Buffer
	lineStart := true
	for {
		start := m.off
		piece, err := m.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil // a line longer than the buffer comes in pieces
		}
		m.off += int64(len(piece))
		if len(piece) > 0 {
			if lineStart && isPostmark(piece) {
				m.next = start
				if piece[len(piece)-1] != '\n' {
					if err := m.skipLine(); err != nil && !errors.Is(err, io.EOF) {
						return nil, fmt.Errorf("message %d at byte %d: read: %w", msg.Index+1, start, err)
					}
				}
				msg.Raw = trimSeparatorBlank(buf.Bytes())
				return msg, nil
			}
			if lineStart {
				piece = unescapeFrom(piece)
			}
			msg.Size += int64(len(piece))
			if buf.Len()+len(piece) <= m.limit {
				buf.Write(piece)
			} else {
				msg.Truncated = true
			}
			lineStart = piece[len(piece)-1] == '\n'
		}
		if errors.Is(err, io.EOF) {
			m.next = -1
			msg.Raw = trimSeparatorBlank(buf.Bytes())
			return msg, nil
		}
		if err != nil {
			return nil, fmt.Errorf("message %d at byte %d: read: %w", msg.Index, msg.Offset, err)
		}
	}
}

// skipLine consumes the rest of the current line.
func (m *mboxReader) skipLine() error {
	for {
		piece, err := m.br.ReadSlice('\n')
		m.off += int64(len(piece))
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return err
	}
}

// isPostmark reports whether line is a "From " separator.
func isPostmark(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return false
	}
	return postmark.Match(line[5:min(len(line), 200)])
}

// unescapeFrom removes one '>' from a line matching ^>+From (mboxrd).
func unescapeFrom(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		return line[1:]
	}
	return line
}

// trimSeparatorBlank drops the empty line that writers put between a
// message and the next "From " line.
func trimSeparatorBlank(b []byte) []byte {
	switch {
	case bytes.HasSuffix(b, []byte("\r\n\r\n")):
		return b[:len(b)-2]
	case bytes.HasSuffix(b, []byte("\n\n")):
		return b[:len(b)-1]
	}
	return b
}
