package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FindCorpus returns the directory of the shared corpus name ("dev",
// "mime-torture"): $MAILTRAIL_<NAME>_CORPUS (MAILTRAIL_DEV_CORPUS,
// MAILTRAIL_MIME_TORTURE_CORPUS) when set, else the first
// shared/corpus/<name> found walking up from the working directory, so that
// a checkout beside shared/ and a worktree one level deeper both find it.
// It returns "" when there is none. Fuzz seeds, which are optional, use it
// directly; tests use Corpus.
func FindCorpus(name string) string {
	if d := os.Getenv(corpusEnv(name)); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		d := filepath.Join(dir, "shared", "corpus", name)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Corpus returns FindCorpus(name), or ends the test when the corpus is
// missing: a failure when $CI is set (CI runs must measure, and a skipped
// corpus test proves nothing), a skip otherwise (a checkout without
// shared/).
func Corpus(tb testing.TB, name string) string {
	tb.Helper()
	d := FindCorpus(name)
	if d == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("corpus %q not found: no shared/corpus/%s above %s and no $%s (CI is set, so this fails instead of skipping)",
				name, name, cwd(), corpusEnv(name))
		}
		tb.Skipf("corpus %q not found (no shared/corpus/%s above the working directory)", name, name)
	}
	return d
}

func cwd() string {
	d, _ := os.Getwd()
	return d
}

// corpusEnv is the variable that names corpus name's directory:
// MAILTRAIL_DEV_CORPUS for "dev".
func corpusEnv(name string) string {
	return "MAILTRAIL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_CORPUS"
}
