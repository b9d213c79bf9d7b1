package config

import (
	"strings"
	"testing"
	"time"
)

func TestFollowupDefaultsAndErrors(t *testing.T) {
	base := "database: {url: postgres://x}\nmeilisearch: {url: http://m}\n"
	c, err := Parse([]byte(base+"followup: {cadence: {B: 72h}, working_hours: \"09:00-18:00\", timezone: Asia/Shanghai}\npool: {release_after_days: 30}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := c.Followup
	if f.Cadence["B"] != 72*time.Hour || f.Cadence["A"] != 24*time.Hour || f.Cadence["E"] != 8760*time.Hour || f.UnansweredAfter != 24*time.Hour {
		t.Errorf("cadence %v, unanswered_after %v", f.Cadence, f.UnansweredAfter)
	}
	if start, end, _ := f.Hours(); start != 9*time.Hour || end != 18*time.Hour {
		t.Errorf("hours %v-%v", start, end)
	}
	if d := f.Days(); !d[time.Monday] || !d[time.Friday] || d[time.Saturday] || d[time.Sunday] {
		t.Errorf("days %v", d)
	}
	if f.Location().String() != "Asia/Shanghai" || c.Pool.ReleaseAfterDays != 30 {
		t.Errorf("timezone %v, release %d", f.Location(), c.Pool.ReleaseAfterDays)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"followup: {cadence: {F: 24h}}", "followup.cadence.F"},
		{"followup: {cadence: {A: -1h}}", "followup.cadence.A"},
		{"followup: {working_days: [mon, fri, funday]}", "followup.working_days[2]"},
		{"followup: {working_hours: \"18:00-09:00\"}", "followup.working_hours"},
		{"followup: {working_hours: \"9-18\"}", "followup.working_hours"},
		{"followup: {timezone: Mars/Olympus}", "followup.timezone"},
		{"followup: {unanswered_after: -2h}", "followup.unanswered_after"},
		{"pool: {release_after_days: -1}", "pool.release_after_days"},
		{"followup: {cadense: {A: 1h}}", "field cadense not found"},
	} {
		_, err := Parse([]byte(base+tc.yaml+"\n"), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
}
