package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// outFile is where a command writes its result: stdout, or the file of
// --out. A file appears only complete: the output goes to a temporary file
// beside it, renamed into place by commit once written and closed; until
// then (or when anything fails) nothing is left behind and a file already
// at the path stays as it was.
type outFile struct {
	io.Writer
	tmp  *os.File // nil for stdout, or once committed or aborted
	path string
}

// createOut opens the output for --out path ("" for stdout). It fails on
// a path that cannot be written, before the command changes anything.
func createOut(path string) (*outFile, error) {
	if path == "" {
		return &outFile{Writer: os.Stdout}, nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("--out: %s is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return &outFile{Writer: tmp, tmp: tmp, path: path}, nil
}

// commit puts the written file in place. A file it replaces keeps its
// mode (a report kept 0600 stays so); a new one gets what os.Create gives
// under the usual umask (022).
func (o *outFile) commit() error {
	if o.tmp == nil {
		return nil
	}
	tmp := o.tmp
	o.tmp = nil
	mode := os.FileMode(0o644)
	if st, err := os.Stat(o.path); err == nil {
		mode = st.Mode().Perm()
	}
	err := errors.Join(tmp.Chmod(mode), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// abort removes the temporary file; after commit it does nothing.
func (o *outFile) abort() {
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		o.tmp = nil
	}
}

// summary tells, on stderr, what went to the file; nothing for stdout.
func (o *outFile) summary(format string, args ...any) {
	if o.path != "" {
		fmt.Fprintf(os.Stderr, "wrote %s: "+format+"\n", append([]any{o.path}, args...)...)
	}
}
