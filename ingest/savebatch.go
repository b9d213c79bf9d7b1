package ingest

import (
	"context"
	"fmt"

	"github.com/mailtrail/mailtrail/timeline"
)

// SaveBatch stores prepared messages inside tx, locs[i] being where
// prs[i] was found (nil for none): Save on each in order (about four round
// trips per message), then the inquiry links of every customer the batch
// touched, once, locked in id order (timeline.Relinks).
func (p *Pipeline) SaveBatch(ctx context.Context, tx timeline.BatchDB, prs []*Prepared, locs []*timeline.Location) ([]timeline.SaveResult, error) {
	rs := make([]timeline.SaveResult, 0, len(prs))
	if err := timeline.CapturePlans(ctx, tx); err != nil {
		return rs, err
	}
	var links timeline.Relinks
	for i, pr := range prs {
		r, err := p.Save(ctx, tx, pr, locs[i], &links)
		if err != nil {
			return rs, err
		}
		rs = append(rs, r)
	}
	if err := links.Flush(ctx, tx); err != nil {
		return rs, fmt.Errorf("link inquiries: %w", err)
	}
	return rs, nil
}
