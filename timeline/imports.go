package timeline

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Import says where an imported message came from.
type Import struct {
	Rep      string // the rep whose mailbox the file belongs to
	Folder   string // "INBOX" or "Sent"
	Source   string // the file
	Position int64  // 1-based index of the message in Source
}

// RecordImport notes that message id was found in rep's imported mail. It
// is idempotent: the first import of a message into a rep's mailbox is
// kept, a later one (the same file again, another export holding it) adds
// nothing. It reports whether a row was added.
func RecordImport(ctx context.Context, db DB, messageID int64, im Import) (bool, error) {
	tag, err := db.Exec(ctx, `
		INSERT INTO message_imports (rep, message_id, folder, source, position)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rep, message_id) DO NOTHING`,
		im.Rep, messageID, im.Folder, im.Source, im.Position)
	if err != nil {
		return false, fmt.Errorf("record import of %s message %d: %w", im.Source, im.Position, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordImports is RecordImport for many messages in one round trip.
func RecordImports(ctx context.Context, db BatchDB, messageIDs []int64, ims []Import) error {
	b := &pgx.Batch{}
	for i, im := range ims {
		b.Queue(`INSERT INTO message_imports (rep, message_id, folder, source, position)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rep, message_id) DO NOTHING`,
			im.Rep, messageIDs[i], im.Folder, im.Source, im.Position)
	}
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record imports: %w", err)
	}
	return nil
}
