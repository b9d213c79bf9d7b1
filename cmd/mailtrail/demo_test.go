package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

// TestDemo is `make run` without the install step: the demo starts its own
// PostgreSQL and Meilisearch, prints a token and curl commands, and those
// commands, run as printed, answer with the sample mail (a customer, its
// timeline, an English and a Chinese search). Ctrl-C stops everything it
// started.
func TestDemo(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is missing: scripts/install-deps.sh installs it")
	}
	// Under /tmp with o+x, as a clone would be: a t.TempDir is 0700, which
	// would send the cluster to /var/lib/mailtrail (TestPostgresUnderUnreachableDir).
	dir, err := os.MkdirTemp("", "mailtrail-demo-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, ".mailtrail")

	cmd := exec.Command(buildBinary(t), "demo", "--dir", data, "--listen", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = withoutEnv(os.Environ(), "MAILTRAIL_DATABASE_URL", "MAILTRAIL_MEILI_URL", "MAILTRAIL_MEILI_KEY", "MAILTRAIL_CONFIG")
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	}()

	var curls []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "curl ") {
			curls = append(curls, line)
		}
		if strings.HasPrefix(line, "Ctrl-C") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
		exited <- cmd.Wait()
	}()
	if len(curls) != 4 {
		t.Fatalf("the demo printed %d curl commands, want 4:\n%s", len(curls), stderr.String())
	}

	// Run each command as printed, by the shell, until the mail is in.
	checks := []struct {
		what string
		ok   func(map[string]any) bool
	}{
		{"customer search", func(v map[string]any) bool { return itemCount(v["customers"]) == 1 }},
		{"timeline", func(v map[string]any) bool { return itemCount(v["events"]) > 0 }},
		{"English search", func(v map[string]any) bool { return itemCount(v["hits"]) > 0 }},
		{"Chinese search", func(v map[string]any) bool { return itemCount(v["hits"]) > 0 }},
	}
	deadline := time.Now().Add(3 * time.Minute) // a first sync and indexing, on a busy machine
	for i, c := range checks {
		for {
			out, err := exec.Command("sh", "-c", curls[i]).Output()
			var v map[string]any
			if err == nil && json.Unmarshal(out, &v) == nil && c.ok(v) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: `%s` answered %q (%v)\n%s", c.what, curls[i], out, err, stderr.String())
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after Ctrl-C the demo exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo did not stop on Ctrl-C\n%s", stderr.String())
	}
	if left := processesUnder(data); len(left) > 0 {
		t.Errorf("still running after Ctrl-C: %q", left)
	}
}

func itemCount(v any) int {
	a, _ := v.([]any)
	return len(a)
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, n := range names {
			keep = keep && name != n
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// processesUnder lists the command lines that name dir: the servers the
// demo started keep their data there.
func processesUnder(dir string) []string {
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			out = append(out, string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return out
}
