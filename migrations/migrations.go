// Package migrations holds mailtrail's SQL schema as numbered files and
// applies them with jackc/tern, one transaction per version, under tern's
// advisory lock so that several daemons starting at once are safe.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// Apply brings the database at url up to the newest schema version.
func Apply(ctx context.Context, url string) (from, to int32, err error) {
	err = withMigrator(ctx, url, func(m *migrate.Migrator) error {
		if from, err = m.GetCurrentVersion(ctx); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		to, err = m.GetCurrentVersion(ctx)
		return err
	})
	return from, to, err
}

// withMigrator runs fn with a migrator over the embedded files, on a
// connection of its own to url.
func withMigrator(ctx context.Context, url string, fn func(*migrate.Migrator) error) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect for migrations: %w", err)
	}
	defer conn.Close(context.Background())
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return fmt.Errorf("migrator: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	return fn(m)
}
