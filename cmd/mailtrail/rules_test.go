package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/internal/testenv"
)

// classify.rules_file replaces the built-in rules for every command (the
// daemon, import, reclassify, re-matching): an edited copy of
// classify/rules.yaml decides, and a broken one stops the command with an
// error naming the key, the file and the rule.
func TestRulesFile(t *testing.T) {
	builtin, err := os.ReadFile("../../classify/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	edited := filepath.Join(dir, "rules.yaml")
	os.WriteFile(edited, []byte(strings.Replace(string(builtin), "id: inquiry.en.please_quote", "id: inquiry.en.our_please_quote", 1)), 0o600)
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(strings.Replace(string(builtin), "id: inquiry.en.please_quote", "id: enquiry.en.please_quote", 1)), 0o600)

	cfg := &config.Config{
		Database:    config.Database{URL: testenv.MigratedPostgres(t)},
		Meilisearch: config.Meilisearch{URL: "http://127.0.0.1:1"},
		Company:     config.Company{Name: "Our Co", Domains: []string{"ourco.example"}},
		Reps:        []config.Rep{{Email: "amy@ourco.example", IMAP: config.IMAP{Host: "x", Password: "x"}}},
		Classify:    config.Classify{RulesFile: edited},
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := open(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	raw := "From: Li Wei <li@buyer.example>\r\nTo: amy@ourco.example\r\nSubject: LED panels\r\nMessage-ID: <r@buyer.example>\r\n" +
		"Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n\r\nDear Amy, please quote 500 pcs of the 600x600 panel.\r\n"
	if v, ok := a.pipe.Verdict([]byte(raw), "amy@ourco.example"); !ok || v.Kind != "inquiry" || v.Rule != "inquiry.en.our_please_quote" {
		t.Errorf("verdict %+v (%v): want the edited file's inquiry.en.our_please_quote", v, ok)
	}

	cfg.Classify.RulesFile = broken
	_, err = open(t.Context(), cfg, log)
	if err == nil || !strings.Contains(err.Error(), "classify.rules_file") || !strings.Contains(err.Error(), "broken.yaml") ||
		!strings.Contains(err.Error(), "enquiry.en.please_quote") {
		t.Errorf("a broken rules file: %v, want an error naming the key, the file and the rule", err)
	}
}
