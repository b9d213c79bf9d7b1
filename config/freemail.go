package config

import (
	"errors"
	"os"

	"github.com/mailtrail/mailtrail/matcher"
)

// FreeMail returns the free-mail list that matching uses: the domains of
// matching.freemail_file in place of the embedded list when it is set,
// then freemail_add added and freemail_remove removed. The file is read
// by Validate (which Parse and Finish call), once: a change of the file
// takes a restart, like any config change.
func (m Matching) FreeMail() matcher.FreeMail {
	base := m.freeMailFile
	if base.IsZero() {
		base = matcher.DefaultFreeMail()
	}
	return base.With(m.FreeMailAdd, m.FreeMailRemove)
}

// loadFreeMailFile reads matching.freemail_file (matcher.ParseFreeMail: one
// domain a line, "#" comments, an error naming a line that is not a
// domain). A file with no domain at all is refused: it would make gmail.com
// and qq.com company domains, and every sender there one customer.
func (m *Matching) loadFreeMailFile() error {
	f, err := os.Open(m.FreeMailFile)
	if err != nil {
		return unwrapPath(err)
	}
	defer f.Close()
	list, err := matcher.ParseFreeMail(f)
	if err != nil {
		return err
	}
	if list.Len() == 0 {
		return errors.New("lists no domain (to match free-mail domains as companies, list at least one, or use freemail_remove)")
	}
	m.freeMailFile = list
	return nil
}
