package timeline

import (
	"errors"
	"time"
)

// WorkingTime is a company's working week: the days worked and, on each,
// the hours from Start to End (offsets from local midnight; End may be
// 24h), in Loc. Public holidays are not known to it.
type WorkingTime struct {
	Days       [7]bool // indexed by time.Weekday
	Start, End time.Duration
	Loc        *time.Location
}

// MondayToFriday is the default working week: whole days, Monday to
// Friday, in UTC.
func MondayToFriday() WorkingTime {
	w := WorkingTime{Start: 0, End: 24 * time.Hour, Loc: time.UTC}
	for d := time.Monday; d <= time.Friday; d++ {
		w.Days[d] = true
	}
	return w
}

// Check reports a working week with no working time in it, which would
// make every computation below loop for nothing.
func (w WorkingTime) Check() error {
	some := false
	for _, d := range w.Days {
		some = some || d
	}
	switch {
	case !some:
		return errors.New("no working day")
	case w.Start < 0 || w.End > 24*time.Hour || w.End <= w.Start:
		return errors.New("working hours must be a non-empty span within one day")
	case w.Loc == nil:
		return errors.New("no time zone")
	}
	return nil
}

// maxWalkDays bounds the day-by-day walks: ten years of calendar.
const maxWalkDays = 3660

// window returns the working span of the day that starts at midnight
// (local), or ok=false on a day off.
func (w WorkingTime) window(midnight time.Time) (from, to time.Time, ok bool) {
	if !w.Days[midnight.Weekday()] {
		return from, to, false
	}
	y, m, d := midnight.Date()
	base := time.Date(y, m, d, 0, 0, 0, 0, w.Loc)
	return base.Add(w.Start), base.Add(w.End), true
}

func (w WorkingTime) midnight(t time.Time) time.Time {
	y, m, d := t.In(w.Loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, w.Loc)
}

// Between returns the working time from a to b (0 when b is not after a).
func (w WorkingTime) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	day := w.midnight(a)
	for i := 0; i < maxWalkDays && day.Before(b); i++ {
		if from, to, ok := w.window(day); ok {
			from, to = later(from, a), earlier(to, b)
			if to.After(from) {
				sum += to.Sub(from)
			}
		}
		day = nextDay(day)
	}
	return sum
}

// Add returns the moment when d of working time has passed since t.
func (w WorkingTime) Add(t time.Time, d time.Duration) time.Time {
	day := w.midnight(t)
	for i := 0; i < maxWalkDays; i++ {
		if from, to, ok := w.window(day); ok {
			from = later(from, t)
			if to.After(from) {
				if avail := to.Sub(from); avail >= d {
					return from.Add(d)
				} else {
					d -= avail
				}
			}
		}
		day = nextDay(day)
	}
	return t.AddDate(10, 0, 0)
}

// Sub returns the latest moment s such that Between(s, t) >= d: anything
// that happened at or before s has waited at least d of working time by t.
func (w WorkingTime) Sub(t time.Time, d time.Duration) time.Time {
	day := w.midnight(t)
	for i := 0; i < maxWalkDays; i++ {
		if from, to, ok := w.window(day); ok {
			to = earlier(to, t)
			if to.After(from) {
				if avail := to.Sub(from); avail >= d {
					return to.Add(-d)
				} else {
					d -= avail
				}
			}
		}
		day = prevDay(day)
	}
	return t.AddDate(-10, 0, 0)
}

func nextDay(midnight time.Time) time.Time {
	y, m, d := midnight.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, midnight.Location())
}

func prevDay(midnight time.Time) time.Time {
	y, m, d := midnight.Date()
	return time.Date(y, m, d-1, 0, 0, 0, 0, midnight.Location())
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
