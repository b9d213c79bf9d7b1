package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/migrations"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Version 14 marks as edited by a person the customers that were, as far
// as the data of version 13 tells: every customer not created from mail,
// and those created from mail with an owner change or a grade, phone or
// country. Re-matching never removes those.
func TestCustomerHistoryBackfill(t *testing.T) {
	ctx := context.Background()
	url := testenv.Postgres(t)
	if err := migrations.ApplyTo(ctx, url, 13); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		INSERT INTO customers (id, name, auto_created, auto_key, grade, phone) VALUES
			(1, 'Listed', false, NULL, NULL, ''),
			(2, 'Untouched', true, 'domain:untouched.example', NULL, ''),
			(3, 'Handed', true, 'domain:handed.example', NULL, ''),
			(4, 'Graded', true, 'domain:graded.example', 'B', ''),
			(5, 'Phoned', true, 'domain:phoned.example', NULL, '+1 555');
		INSERT INTO owner_changes (customer_id, old_owner, new_owner, via, actor, changed_at) VALUES
			(3, 'amy@ourco.example', 'bob@ourco.example', 'cli', 'first', '2026-01-01'),
			(3, 'bob@ourco.example', 'eve@ourco.example', 'api', 'manager', '2026-02-01')`); err != nil {
		t.Fatal(err)
	}
	if err := migrations.ApplyTo(ctx, url, 14); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT id, edited_at IS NOT NULL, coalesce(edited_by, '-') FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID     int64
		Edited bool
		By     string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{1, true, ""}, {2, false, "-"}, {3, true, "api:manager"}, {4, true, ""}, {5, true, ""}}
	if len(got) != len(want) {
		t.Fatalf("customers after the migration = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("customer %d after the migration = %+v, want %+v", want[i].ID, got[i], want[i])
		}
	}
}
