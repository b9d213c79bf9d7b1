package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A failed write (a render error) leaves no file and keeps the one that
// was there; a committed one replaces it whole, keeping its mode.
func TestOutFile(t *testing.T) {
	dir := t.TempDir()
	fresh, kept := filepath.Join(dir, "fresh.html"), filepath.Join(dir, "kept.html")
	os.WriteFile(kept, []byte("last week's report"), 0o600)
	for _, path := range []string{fresh, kept} {
		w, err := createOut(path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, "<!DOCTYPE html><p>half a rep")
		w.abort() // as cmdHandover's defer does when Render fails
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("an aborted output left %s: %v", fresh, err)
	}
	if b, _ := os.ReadFile(kept); string(b) != "last week's report" {
		t.Errorf("an aborted output changed %s: %q", kept, b)
	}
	w, err := createOut(kept)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "this week's report")
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	w.abort() // harmless after commit
	if b, _ := os.ReadFile(kept); string(b) != "this week's report" {
		t.Errorf("committed %q", b)
	}
	if st, _ := os.Stat(kept); st.Mode().Perm() != 0o600 {
		t.Errorf("the replaced report's mode is %v, want the 0600 it had", st.Mode().Perm())
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("files left: %v, want only kept.html", left)
	}
}
