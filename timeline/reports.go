package timeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Percentiles are the median and the 90th percentile of a duration in
// hours (percentile_cont: interpolated); nil when there was nothing to measure.
type Percentiles struct {
	Median *float64 `json:"median"`
	P90    *float64 `json:"p90"`
}

// FunnelRow is the funnel of one group of inquiries.
type FunnelRow struct {
	Rep        string      `json:"rep,omitempty"`
	Month      string      `json:"month,omitempty"` // YYYY-MM in the report's time zone
	Inquiries  int64       `json:"inquiries"`
	Replied    int64       `json:"replied"`    // some outbound event to the customer followed
	Quoted     int64       `json:"quoted"`     // a quote is linked
	Conversion float64     `json:"conversion"` // quoted / inquiries
	ReplyHours Percentiles `json:"hours_to_first_reply"`
	QuoteHours Percentiles `json:"hours_to_quote"`
}

// Funnel is the inquiry funnel over [From, To).
type Funnel struct {
	From     time.Time   `json:"from"`
	To       time.Time   `json:"to"`
	Rep      string      `json:"rep,omitempty"`
	TimeZone string      `json:"time_zone"`
	Total    FunnelRow   `json:"total"`
	PerRep   []FunnelRow `json:"per_rep"`
	PerMonth []FunnelRow `json:"per_month"`
}

// funnelSQL aggregates inquiries with their links in one pass, by GROUPING
// SETS: the total, per rep and per month. It reads only the partial index
// events_inquiry_time (an index-only scan, rep included).
// Hours are float8 (date_part; extract would give slow numerics), each
// measure's median and 90th percentile share one sort, and months are
// local wall-clock months (AT TIME ZONE: three times cheaper than the
// time-zone argument of date_trunc).
const funnelSQL = `
SELECT GROUPING(rep), GROUPING(month), coalesce(rep, ''), month,
	count(*), count(reply_h), count(quote_h),
	percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY reply_h),
	percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY quote_h)
FROM (
	SELECT e.rep, date_trunc('month', e.occurred_at AT TIME ZONE $4) AS month,
		date_part('epoch', e.replied_at - e.occurred_at) / 3600 AS reply_h,
		date_part('epoch', e.quoted_at - e.occurred_at) / 3600 AS quote_h
	FROM events e
	WHERE e.kind = 'inquiry' AND e.occurred_at >= $1 AND e.occurred_at < $2 AND ($3 = '' OR e.rep = $3)
) i
GROUP BY GROUPING SETS ((), (rep), (month))`

// InquiryFunnel counts the inquiries received in [from, to) (by rep when
// rep is set), how many were replied to and quoted, the time to the first
// reply and to the quote, per rep and per month (months in loc).
func InquiryFunnel(ctx context.Context, db DB, from, to time.Time, rep string, loc *time.Location) (Funnel, error) {
	if loc == nil {
		loc = time.UTC
	}
	f := Funnel{From: from, To: to, Rep: rep, TimeZone: loc.String(), PerRep: []FunnelRow{}, PerMonth: []FunnelRow{}}
	err := inReportTx(ctx, db, func(db DB) error { return f.read(ctx, db, loc) })
	if err != nil {
		return f, fmt.Errorf("funnel: %w", err)
	}
	slices.SortFunc(f.PerRep, func(a, b FunnelRow) int { return strings.Compare(a.Rep, b.Rep) })
	slices.SortFunc(f.PerMonth, func(a, b FunnelRow) int { return strings.Compare(a.Month, b.Month) })
	return f, nil
}

func (f *Funnel) read(ctx context.Context, db DB, loc *time.Location) error {
	rows, err := db.Query(ctx, funnelSQL, f.From, f.To, f.Rep, loc.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var gRep, gMonth int
		var r FunnelRow
		var month *time.Time
		var reply, quote []float64
		if err := rows.Scan(&gRep, &gMonth, &r.Rep, &month, &r.Inquiries, &r.Replied, &r.Quoted, &reply, &quote); err != nil {
			return err
		}
		r.ReplyHours, r.QuoteHours = percentiles(reply), percentiles(quote)
		if month != nil {
			r.Month = month.Format("2006-01") // a local timestamp, read as UTC
		}
		if r.Inquiries > 0 {
			r.Conversion = round4(float64(r.Quoted) / float64(r.Inquiries))
		}
		switch {
		case gRep == 1 && gMonth == 1:
			f.Total = r
		case gMonth == 1:
			f.PerRep = append(f.PerRep, r)
		default:
			f.PerMonth = append(f.PerMonth, r)
		}
	}
	return rows.Err()
}

// beginner opens a transaction, or a savepoint in one: the pool and pgx.Tx.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// inReportTx runs fn in a transaction (rolled back: it only reads) set up
// for one big aggregate: JIT off, since compiling costs more than it saves
// at this size, and work_mem raised so that the sorts of percentile_cont
// and of the grouping stay in memory. A db that cannot begin one runs fn
// as it is.
func inReportTx(ctx context.Context, db DB, fn func(DB) error) error {
	b, ok := db.(beginner)
	if !ok {
		return fn(db)
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`); err != nil {
		return err
	}
	return fn(tx)
}

// percentiles reads percentile_cont's {median, p90}; NULL (no values) gives nils.
func percentiles(v []float64) Percentiles {
	if len(v) != 2 {
		return Percentiles{}
	}
	m, p := round2(v[0]), round2(v[1])
	return Percentiles{Median: &m, P90: &p}
}

// ChurnParams tune the churn report.
type ChurnParams struct {
	Window      time.Duration // the recent window (default 30 days)
	Baseline    time.Duration // the trailing period before it (default 180 days)
	MaxRatio    float64       // listed when recent <= MaxRatio * expected (default 0.5)
	MinExpected float64       // and expected >= MinExpected (default 3): too small a rate says nothing
}

func (p ChurnParams) withDefaults() ChurnParams {
	if p.Window <= 0 {
		p.Window = 30 * 24 * time.Hour
	}
	if p.Baseline <= 0 {
		p.Baseline = 180 * 24 * time.Hour
	}
	if p.MaxRatio <= 0 {
		p.MaxRatio = 0.5
	}
	if p.MinExpected <= 0 {
		p.MinExpected = 3
	}
	return p
}

// ChurnRow is a customer whose inbound mail dropped, with the figures.
type ChurnRow struct {
	CustomerID   int64      `json:"customer_id"`
	Name         string     `json:"name"`
	Owner        string     `json:"owner,omitempty"`
	Grade        string     `json:"grade,omitempty"`
	Recent       int64      `json:"recent_inbound"`       // inbound events in the window
	Baseline     int64      `json:"baseline_inbound"`     // inbound events in the baseline period
	MonthlyRate  float64    `json:"baseline_per_30_days"` // the baseline's rate per 30 days
	Expected     float64    `json:"expected_in_window"`   // the baseline's rate over the window
	Ratio        float64    `json:"ratio"`                // recent / expected
	LastInbound  *time.Time `json:"last_inbound"`
	WindowDays   float64    `json:"window_days"`
	BaselineDays float64    `json:"baseline_days"`
}

// Churn lists the customers whose inbound events in the window ending at
// now fell to at most MaxRatio of what their own rate over the baseline
// period before the window predicts, biggest shortfall first.
func Churn(ctx context.Context, db DB, now time.Time, p ChurnParams, v Viewer, limit int) ([]ChurnRow, error) {
	p = p.withDefaults()
	ws := now.Add(-p.Window)
	bs := ws.Add(-p.Baseline)
	scale := p.Window.Hours() / p.Baseline.Hours()
	var out []ChurnRow
	err := inReportTx(ctx, db, func(db DB) error {
		rows, err := db.Query(ctx, `
		WITH w AS (
			SELECT e.customer_id,
				count(*) FILTER (WHERE e.occurred_at >= $2) AS recent,
				count(*) FILTER (WHERE e.occurred_at < $2) AS base,
				max(e.occurred_at) AS last_in
			FROM events e
			WHERE e.direction = 'in' AND e.occurred_at >= $1 AND e.occurred_at < $3
			GROUP BY e.customer_id)
		SELECT c.id, c.name, coalesce(c.owner, ''), coalesce(c.grade, ''), w.recent, w.base, w.last_in,
			w.base * $4::float8 AS expected
		FROM w JOIN customers c ON c.id = w.customer_id
		WHERE w.base * $4::float8 >= $5::float8 AND w.recent <= $6::float8 * w.base * $4::float8
			AND `+visibleSQL("c.id", "$7")+`
		ORDER BY w.base * $4::float8 - w.recent DESC, c.id
		LIMIT $8`, bs, ws, now, scale, p.MinExpected, p.MaxRatio, string(v), limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanChurn(p))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("churn: %w", err)
	}
	return out, nil
}

func scanChurn(p ChurnParams) pgx.RowToFunc[ChurnRow] {
	return func(row pgx.CollectableRow) (ChurnRow, error) {
		var r ChurnRow
		err := row.Scan(&r.CustomerID, &r.Name, &r.Owner, &r.Grade, &r.Recent, &r.Baseline, &r.LastInbound, &r.Expected)
		r.WindowDays = round2(p.Window.Hours() / 24)
		r.BaselineDays = round2(p.Baseline.Hours() / 24)
		r.MonthlyRate = round2(float64(r.Baseline) * 30 * 24 / p.Baseline.Hours())
		if r.Expected > 0 {
			r.Ratio = round2(float64(r.Recent) / r.Expected)
		}
		r.Expected = round2(r.Expected)
		return r, err
	}
}
