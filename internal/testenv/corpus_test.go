package testenv_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

// The corpus is found from any depth below the directory holding shared/,
// and the environment variable wins.
func TestFindCorpus(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "shared", "corpus", "mime-torture")
	deep := filepath.Join(root, "wt", "h", "internal", "eval")
	for _, d := range []string{want, deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("MAILTRAIL_MIME_TORTURE_CORPUS", "")
	t.Chdir(deep)
	if got := testenv.FindCorpus("mime-torture"); got != want {
		t.Errorf("FindCorpus from %s = %q, want %q", deep, got, want)
	}
	if got := testenv.FindCorpus("dev"); got != "" {
		t.Errorf("FindCorpus of a corpus that is not there = %q", got)
	}
	t.Setenv("MAILTRAIL_MIME_TORTURE_CORPUS", "/elsewhere")
	if got := testenv.FindCorpus("mime-torture"); got != "/elsewhere" {
		t.Errorf("FindCorpus with the variable set = %q", got)
	}
}

// A missing corpus fails the test when CI is set and skips it otherwise:
// the test binary runs TestCorpusMissing in a directory with no shared/.
func TestCorpusMissingFailsUnderCI(t *testing.T) {
	if os.Getenv("MAILTRAIL_CORPUS_PROBE") != "" {
		t.Skip("this is the probe's own run")
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCorpusMissing$", "-test.v")
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "MAILTRAIL_CORPUS_PROBE=1", "CI="+ci, "MAILTRAIL_NOWHERE_CORPUS=")
		out, err := cmd.CombinedOutput()
		failed := err != nil && strings.Contains(string(out), "--- FAIL: TestCorpusMissing")
		skipped := err == nil && strings.Contains(string(out), "--- SKIP: TestCorpusMissing")
		if ci != "" && !failed || ci == "" && !skipped {
			t.Errorf("CI=%q: err %v, output:\n%s", ci, err, out)
		}
	}
}

func TestCorpusMissing(t *testing.T) {
	if os.Getenv("MAILTRAIL_CORPUS_PROBE") == "" {
		t.Skip("run by TestCorpusMissingFailsUnderCI")
	}
	testenv.Corpus(t, "nowhere")
	t.Error("Corpus returned for a corpus that does not exist")
}
