package timeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

// TestReplanAsTablesGrow: a generic plan made on an empty table stays
// cached as the table grows (a scan of the whole table), until the
// messages saved through the connection have doubled: then it is made
// again, for the table as it is.
func TestReplanAsTablesGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE probe (k int, v text); CREATE INDEX probe_k ON probe (k); ANALYZE probe`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "probe", `SELECT v FROM probe WHERE k = $1`); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	plan := func() string {
		t.Helper()
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE probe(7)`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, "Seq Scan") {
		t.Fatalf("the empty table's plan reads it whole, it was thought; got\n%s", p)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO probe SELECT i, 'x' FROM generate_series(1, 100000) i`); err != nil {
		t.Fatal(err)
	}
	if err := replanAsTablesGrow(ctx, tx, 255); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, "Seq Scan") {
		t.Fatalf("plans made again before 256 messages; got\n%s", p)
	}
	if err := replanAsTablesGrow(ctx, tx, 1); err != nil {
		t.Fatal(err)
	}
	if p := plan(); strings.Contains(p, "Seq Scan") || !strings.Contains(p, "probe_k") {
		t.Fatalf("at 256 messages the plan is made again and looks k up in its index; got\n%s", p)
	}
	// The next time is at twice as many.
	if err := replanAsTablesGrow(ctx, tx, 255); err != nil {
		t.Fatal(err)
	}
	if next := tx.Conn().PgConn().CustomData()["mailtrail.replanAt"]; next != 512 {
		t.Errorf("next replan at %v, want 512", next)
	}
}

// TestCaptureGroups: a message goes in the group after the last one
// holding a message it could find (a shared id, dedup key or subject
// key), the others in the first groups, each group in the order given.
func TestCaptureGroups(t *testing.T) {
	msgs := []struct{ dedup, subject, id, replyTo string }{
		{"a", "RFQ: LED panel", "a@x", ""},        // 0
		{"b", "Re: RFQ: LED panel", "b@x", "a@x"}, // 1: replies to a
		{"c", "Catalogue", "c@x", ""},             // 0
		{"d", "Price list", "d@x", "b@x"},         // 2: replies to b
		{"e", "Re: Catalogue", "e@x", ""},         // 1: c's subject
		{"a", "RFQ: LED panel", "a@x", ""},        // 2: a's copy, after b (which refers to a@x)
		{"f", "Visit", "f@x", ""},                 // 0
		{"g", "", "g@x", ""},                      // 0: no subject key
		{"h", "", "h@x", ""},                      // 0
	}
	cs := make([]*Captured, len(msgs))
	out := make([]captured, len(msgs))
	for i, m := range msgs {
		cs[i] = &Captured{DedupKey: m.dedup, Subject: m.subject, MessageID: m.id}
		if m.replyTo != "" {
			cs[i].InReplyTo = []string{m.replyTo}
		}
		out[i] = newCaptured(cs[i])
	}
	got := fmt.Sprint(captureGroups(cs, out))
	if want := "[[0 2 6 7 8] [1 4] [3 5]]"; got != want {
		t.Errorf("groups %s, want %s", got, want)
	}
}
