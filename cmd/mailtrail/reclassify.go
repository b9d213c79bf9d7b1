package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// cmdReclassify re-runs matching and the kind rules over every stored
// message with events (from its raw bytes) and prints what changed, with
// the feedback of people's corrections per rule, as JSON on stdout.
func cmdReclassify(ctx context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return errors.New("usage: reclassify")
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, e.log)
	if err != nil {
		return err
	}
	defer a.close()
	pipe := a.pipe
	if err := pipe.Reload(ctx); err != nil {
		return err
	}
	start := time.Now()
	rep, err := timeline.Reclassify(ctx, a.store, pipe.Verdict)
	if err != nil {
		return err
	}
	e.log.Info("reclassified", "messages", rep.Messages, "events", rep.Events, "kind_changed", rep.KindChanged,
		"manual_kept", rep.ManualKept, "threaded", rep.Threaded, "took", time.Since(start).Round(time.Millisecond))
	if _, err := a.index.Drain(ctx); err != nil {
		e.log.Warn("search index not updated; the outbox keeps the events", "err", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// policyOf turns the followup and pool sections of the config into the
// timeline's policy.
func policyOf(cfg *config.Config) timeline.Policy {
	f := cfg.Followup
	start, end, _ := f.Hours() // validated by config.Load
	return timeline.Policy{
		Cadence:          f.Cadence,
		UnansweredAfter:  f.UnansweredAfter,
		Work:             timeline.WorkingTime{Days: f.Days(), Start: start, End: end, Loc: f.Location()},
		PoolReleaseAfter: time.Duration(cfg.Pool.ReleaseAfterDays) * 24 * time.Hour,
	}
}
