package timeline

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// funnelSQL lists the inquiries of [$1, $2) (of rep $3 when set) with
// their links. It reads only the partial index events_inquiry_time (an
// index-only scan, rep included) and computes nothing: the grouping and
// the percentiles are done in Go, in one pass and one sort per group.
// In SQL (GROUPING SETS with percentile_cont) the same report cost 200 ms
// of server CPU for a year of 83,000 inquiries, three quarters of it in
// sorts and per-row date arithmetic.
const funnelSQL = `
SELECT e.rep, e.occurred_at, e.replied_at, e.quoted_at
FROM events e
WHERE e.kind = 'inquiry' AND e.occurred_at >= $1 AND e.occurred_at < $2 AND ($3 = '' OR e.rep = $3)`

// funnelGroup gathers one row of the funnel.
type funnelGroup struct {
	n            int64
	reply, quote []float64 // hours
}

func (g *funnelGroup) add(reply, quote float64, replied, quoted bool) {
	g.n++
	if replied {
		g.reply = append(g.reply, reply)
	}
	if quoted {
		g.quote = append(g.quote, quote)
	}
}

func (g *funnelGroup) row() FunnelRow {
	r := FunnelRow{Inquiries: g.n, Replied: int64(len(g.reply)), Quoted: int64(len(g.quote)),
		ReplyHours: percentiles(g.reply), QuoteHours: percentiles(g.quote)}
	if r.Inquiries > 0 {
		r.Conversion = round4(float64(r.Quoted) / float64(r.Inquiries))
	}
	return r
}

// InquiryFunnel counts the inquiries received in [from, to) (by rep when
// rep is set), how many were replied to and quoted, the time to the first
// reply and to the quote, per rep and per month (months in loc).
func InquiryFunnel(ctx context.Context, db DB, from, to time.Time, rep string, loc *time.Location) (Funnel, error) {
	if loc == nil {
		loc = time.UTC
	}
	f := Funnel{From: from, To: to, Rep: rep, TimeZone: loc.String(), PerRep: []FunnelRow{}, PerMonth: []FunnelRow{}}
	var total funnelGroup
	reps, months := map[string]*funnelGroup{}, map[string]*funnelGroup{}
	group := func(m map[string]*funnelGroup, k string) *funnelGroup {
		g := m[k]
		if g == nil {
			g = &funnelGroup{}
			m[k] = g
		}
		return g
	}
	rows, err := db.Query(ctx, funnelSQL, from, to, rep)
	if err != nil {
		return f, fmt.Errorf("funnel: %w", err)
	}
	var r string
	var at time.Time
	var repliedAt, quotedAt pgtype.Timestamptz // no pointer: a third faster to scan
	var lastMonth time.Time                    // the month of the previous row: rows come in time order
	var month string
	_, err = pgx.ForEachRow(rows, []any{&r, &at, &repliedAt, &quotedAt}, func() error {
		var rh, qh float64
		if repliedAt.Valid {
			rh = repliedAt.Time.Sub(at).Hours()
		}
		if quotedAt.Valid {
			qh = quotedAt.Time.Sub(at).Hours()
		}
		local := at.In(loc)
		if local.Year() != lastMonth.Year() || local.Month() != lastMonth.Month() || month == "" {
			lastMonth, month = local, local.Format("2006-01")
		}
		for _, g := range []*funnelGroup{&total, group(reps, r), group(months, month)} {
			g.add(rh, qh, repliedAt.Valid, quotedAt.Valid)
		}
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("funnel: %w", err)
	}
	f.Total = total.row()
	for k, g := range reps {
		row := g.row()
		row.Rep = k
		f.PerRep = append(f.PerRep, row)
	}
	for k, g := range months {
		row := g.row()
		row.Month = k
		f.PerMonth = append(f.PerMonth, row)
	}
	slices.SortFunc(f.PerRep, func(a, b FunnelRow) int { return strings.Compare(a.Rep, b.Rep) })
	slices.SortFunc(f.PerMonth, func(a, b FunnelRow) int { return strings.Compare(a.Month, b.Month) })
	return f, nil
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

// percentiles are the median and the 90th percentile of v (reordered in
// place) as PostgreSQL's percentile_cont computes them, interpolating
// between neighbours; nils when v is empty.
func percentiles(v []float64) Percentiles {
	if len(v) == 0 {
		return Percentiles{}
	}
	m, p := round2(percentileCont(v, 0.5)), round2(percentileCont(v, 0.9))
	return Percentiles{Median: &m, P90: &p}
}

// percentileCont selects the two neighbours around the fraction f of v
// (linear time: a sort of every group was a third of the report's cost).
func percentileCont(v []float64, f float64) float64 {
	pos := f * float64(len(v)-1)
	lo := int(math.Floor(pos))
	a := selectNth(v, lo)
	if float64(lo) == pos {
		return a
	}
	b := slices.Min(v[lo+1:]) // selectNth left the larger values after lo
	return a + (b-a)*(pos-float64(lo))
}

// selectNth reorders v so that v[k] is the value a sort would put there,
// the smaller values before it and the larger after (Hoare's selection).
func selectNth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
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
	// Shortfall is expected minus recent, unrounded: the list's order, and
	// with CustomerID the cursor of the next page.
	Shortfall float64 `json:"-"`
}

// ChurnCursor positions a page of Churn: rows after (Shortfall,
// CustomerID) in the list's order. The zero value starts at the biggest
// shortfall. A cursor only means something with the same now and
// ChurnParams as the page it came from: the shortfalls are computed from
// them.
type ChurnCursor struct {
	Shortfall  float64
	CustomerID int64
}

// Churn lists the customers whose inbound events in the window ending at
// now fell to at most MaxRatio of what their own rate over the baseline
// period before the window predicts, biggest shortfall first, then by
// customer id; at most limit of them after cur.
func Churn(ctx context.Context, db DB, now time.Time, p ChurnParams, scope Scope, cur ChurnCursor, limit int) ([]ChurnRow, error) {
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
			GROUP BY e.customer_id),
		r AS (
			SELECT c.id, c.name, coalesce(c.owner, '') AS owner, coalesce(c.grade, '') AS grade, w.recent, w.base, w.last_in,
				w.base * $4::float8 AS expected, w.base * $4::float8 - w.recent AS shortfall
			FROM w JOIN customers c ON c.id = w.customer_id
			WHERE w.base * $4::float8 >= $5::float8 AND w.recent <= $6::float8 * w.base * $4::float8
				AND `+VisibleSQL("c.id", 7)+`)
		SELECT id, name, owner, grade, recent, base, last_in, expected, shortfall FROM r
		WHERE $9 OR shortfall < $10::float8 OR (shortfall = $10::float8 AND id > $11)
		ORDER BY shortfall DESC, id
		LIMIT $8`, bs, ws, now, scale, p.MinExpected, p.MaxRatio, scope.Rep, limit,
			cur == ChurnCursor{}, cur.Shortfall, cur.CustomerID)
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
		err := row.Scan(&r.CustomerID, &r.Name, &r.Owner, &r.Grade, &r.Recent, &r.Baseline, &r.LastInbound, &r.Expected, &r.Shortfall)
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
