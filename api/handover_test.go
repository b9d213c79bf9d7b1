package api

import (
	"encoding/json"
	"fmt"
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

// A real transfer over the API: a per-customer mapping, applied; owners
// move in the database with an audit row each naming the API and the
// token.
func TestHandoverTransferApplied(t *testing.T) {
	f := newFixture(t, false)
	body := fmt.Sprintf(`{"mapping": {"%d": "%s", "%d": "carol@ourco.example"}}`, f.ids["Bravo"], amy, f.ids["Charlie"])
	resp := f.do("manager", "POST", "/api/v1/reps/"+bob+"/handover", body)
	if resp.status != 200 {
		t.Fatalf("transfer: %d %s", resp.status, resp.body)
	}
	checkShape(t, openAPIDoc(t), "POST /api/v1/reps/{email}/handover", "", resp, "transfer")
	var res struct {
		DryRun bool `json:"dry_run"`
		Moves  []struct {
			CustomerID int64  `json:"customer_id"`
			From       string `json:"from"`
			To         string `json:"to"`
		} `json:"moves"`
	}
	if err := json.Unmarshal(resp.body, &res); err != nil || res.DryRun || len(res.Moves) != 2 {
		t.Fatalf("result %s", resp.body)
	}
	want := map[string]string{"Alpha": amy, "Bravo": amy, "Charlie": "carol@ourco.example", "Delta": ""}
	for name, owner := range want {
		var got string
		if err := f.store.Pool.QueryRow(f.ctx, `SELECT coalesce(owner, '') FROM customers WHERE id = $1`, f.ids[name]).Scan(&got); err != nil || got != owner {
			t.Errorf("%s owned by %q (%v), want %q", name, got, err, owner)
		}
	}
	for name, owner := range map[string]string{"Bravo": amy, "Charlie": "carol@ourco.example"} {
		changes, err := timeline.OwnerChanges(f.ctx, f.store.Pool, f.ids[name])
		if err != nil || len(changes) != 1 ||
			changes[0] != (timeline.OwnerChange{CustomerID: f.ids[name], OldOwner: bob, NewOwner: owner, Via: "api", Actor: "manager"}) {
			t.Errorf("%s's audit %+v %v", name, changes, err)
		}
	}
	if changes, _ := timeline.OwnerChanges(f.ctx, f.store.Pool, f.ids["Alpha"]); len(changes) != 0 {
		t.Errorf("Alpha's audit %+v: nothing moved it", changes)
	}
	// Again: nothing left to move, no new audit row.
	// (a client that lost the first answer may safely send it again).
	again := f.do("manager", "POST", "/api/v1/reps/"+bob+"/handover", body)
	if err := json.Unmarshal(again.body, &res); again.status != 200 || err != nil || len(res.Moves) != 0 {
		t.Errorf("second transfer: %d %s", again.status, again.body)
	}
	var n int
	f.store.Pool.QueryRow(f.ctx, `SELECT count(*) FROM owner_changes`).Scan(&n)
	if n != 2 {
		t.Errorf("%d audit rows after the second transfer, want 2", n)
	}
}
