package api

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/timeline"
)

// The handover report counts follow-ups by the server's policy (the
// config's followup.cadence), exactly as GET /api/v1/followups does.
func TestHandoverCadenceFromPolicy(t *testing.T) {
	f := newFixture(t, false)
	p := timeline.DefaultPolicy()
	p.Cadence["B"] = 72 * time.Hour // every customer of the fixture is grade B
	f.srv.WithPolicy(p)
	resp := f.do("manager", "GET", "/api/v1/reps/"+amy+"/handover", "")
	if resp.status != 200 {
		t.Fatalf("report: %d %s", resp.status, resp.body)
	}
	var alpha map[string]any
	for _, c := range resp.json(t)["customers"].([]any) {
		if c := c.(map[string]any); c["name"] == "Alpha GmbH" {
			alpha = c
		}
	}
	fu, _ := alpha["follow_up_overdue"].(map[string]any)
	if fu == nil || fu["cadence_days"] != 3.0 {
		t.Fatalf("Alpha's follow-up %v, want cadence_days 3 (followup.cadence.B: 72h)", alpha["follow_up_overdue"])
	}
	list := f.do("manager", "GET", "/api/v1/followups?rep="+amy, "").json(t)["followups"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["due_at"] != fu["due_at"] || list[0].(map[string]any)["cadence_hours"] != 72.0 {
		t.Errorf("GET /followups %v; the report's due_at %v", list, fu["due_at"])
	}
}
