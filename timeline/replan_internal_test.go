package timeline

import (
	"context"
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
