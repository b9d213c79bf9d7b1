package migrations

import (
	"context"

	"github.com/jackc/tern/v2/migrate"
)

// ApplyTo brings the database at url to schema version, so that a test can
// store data as an older version had it and check what a migration does
// with it.
func ApplyTo(ctx context.Context, url string, version int32) error {
	return withMigrator(ctx, url, func(m *migrate.Migrator) error { return m.MigrateTo(ctx, version) })
}
