package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// fileKind is what a file holds.
type fileKind int

const (
	notMail  fileKind = iota
	oneMail           // an .eml file or a Maildir message
	mboxFile          // many messages behind "From " lines
)

// walkMail calls fn for every mail file under path, in a stable order:
// path itself when it is a file; under a directory, every .eml file,
// every message in a Maildir's cur/ and new/ (never tmp/, which holds
// deliveries in progress), and every mbox file, recursively, so that a
// tree of Maildir folders (Maildir++ ".Sent" or one directory per
// folder), a Thunderbird profile (Inbox, Sent, *.sbd) or an Apple Mail
// export (Name.mbox/mbox) is read whole. Files that hold no mail
// (indexes, .msf, Info.plist, dovecot-uidlist) are skipped and counted.
// A file named on the command line that is not mail, and anything that
// cannot be read, goes to bad and the walk goes on; the error returned is
// fn's, which stops the walk.
func walkMail(path string, fn func(path string, kind fileKind) error, skipped func(path string), bad func(path string, err error)) error {
	st, err := os.Stat(path)
	if err != nil {
		bad(path, err)
		return nil
	}
	if !st.IsDir() {
		kind, err := sniff(path)
		switch {
		case err != nil:
			bad(path, err)
			return nil
		case kind == notMail:
			bad(path, errors.New("not an .eml file, an mbox file or a Maildir"))
			return nil
		}
		return fn(path, kind)
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			bad(p, err) // an unreadable directory: skip it, go on
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != path && (strings.HasPrefix(name, ".") && !isMaildirPlusPlus(p) || name == "tmp" && isMaildir(filepath.Dir(p))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(name, ".") {
			return nil
		}
		kind, err := sniff(p)
		switch {
		case err != nil:
			bad(p, err)
			return nil
		case kind == notMail:
			skipped(p)
			return nil
		}
		return fn(p, kind)
	})
}

// isMaildir reports whether dir has the cur/ and new/ of a Maildir.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// isMaildirPlusPlus reports whether a dot-directory is a Maildir++
// folder (".Sent", ".Archive.2019") rather than hidden clutter.
func isMaildirPlusPlus(dir string) bool { return isMaildir(dir) }

// headerLine matches the first line of a message: a header field name
// (RFC 5322 2.2: printable ASCII but ':') and a colon.
var headerLine = regexp.MustCompile(`^[!-9;-~]+:`)

// mailFields are header fields of which a message has at least one.
var mailFields = [][]byte{[]byte("\nfrom:"), []byte("\ndate:"), []byte("\nmessage-id:"), []byte("\nreceived:"), []byte("\nsubject:"), []byte("\nto:")}

// sniff tells an .eml file, an mbox and anything else apart by their
// first bytes; an .eml file is mail whatever it holds (the parser flags
// what it cannot read).
func sniff(path string) (fileKind, error) {
	f, err := os.Open(path)
	if err != nil {
		return notMail, err
	}
	defer f.Close()
	head := make([]byte, 16<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return notMail, fmt.Errorf("read: %w", err)
	}
	head = bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf"))
	switch {
	case bytes.HasPrefix(head, []byte("From ")):
		return mboxFile, nil
	case strings.EqualFold(filepath.Ext(path), ".eml"):
		if n == 0 {
			return notMail, errors.New("empty file")
		}
		return oneMail, nil
	case n == 0 && strings.EqualFold(filepath.Ext(path), ".mbox"):
		return mboxFile, nil // an empty folder's export
	}
	line, _, _ := bufio.NewReader(bytes.NewReader(head)).ReadLine()
	if !headerLine.Match(line) {
		return notMail, nil
	}
	block := head
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		block = head[:i]
	} else if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		block = head[:i]
	}
	block = bytes.ToLower(append([]byte("\n"), block...))
	for _, f := range mailFields {
		if bytes.Contains(block, f) {
			return oneMail, nil
		}
	}
	return notMail, nil
}

// absPaths makes the command line's paths absolute, dropping repeats
// (importing a file twice in one run is harmless, but pointless).
func absPaths(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}
