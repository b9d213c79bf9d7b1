package config

import (
	"strings"
	"testing"
)

func TestVerifyInterval(t *testing.T) {
	base := "database: {url: x}\nmeilisearch: {url: y}\n"
	for in, want := range map[string]string{
		"":                               "6h0m0s", // unset: the default
		"sync: {verify_interval: 0}\n":   "0s",     // a bare 0 turns it off
		"sync: {verify_interval: 0s}\n":  "0s",
		"sync: {verify_interval: 90m}\n": "1h30m0s",
	} {
		c, err := Parse([]byte(base+in), "test.yaml")
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := c.Sync.VerifyEvery().String(); got != want {
			t.Errorf("%q: verify every %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"sync: {verify_interval: -1s}\n":   "sync.verify_interval: -1s is negative",
		"sync: {verify_interval: daily}\n": `"daily" is not a duration`,
	} {
		if _, err := Parse([]byte(base+in), "test.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", in, err, want)
		}
	}
}
