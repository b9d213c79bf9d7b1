package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // followup.timezone must load on hosts without a zoneinfo database
)

// Followup is the follow-up discipline: cadence per customer grade, and
// when an inquiry counts as unanswered, in working time.
type Followup struct {
	// Cadence is the longest silence allowed per grade (A..E) since the last
	// outbound mail; grades left out keep their default.
	Cadence map[string]time.Duration `yaml:"cadence"`
	// UnansweredAfter is the working time after which an inquiry with no
	// reply is listed as unanswered (default 24h).
	UnansweredAfter time.Duration `yaml:"unanswered_after"`
	// WorkingDays are the days worked: mon, tue, wed, thu, fri, sat, sun
	// (default mon..fri).
	WorkingDays []string `yaml:"working_days"`
	// WorkingHours is "HH:MM-HH:MM" in Timezone (default 00:00-24:00).
	WorkingHours string `yaml:"working_hours"`
	// Timezone is an IANA zone name, e.g. Asia/Shanghai (default UTC).
	Timezone string `yaml:"timezone"`
}

// Pool controls the public pool of customers.
type Pool struct {
	// ReleaseAfterDays lists an owned customer in the pool when its owner
	// has not written to it for this many days; 0 (default) turns it off.
	ReleaseAfterDays int `yaml:"release_after_days"`
}

// DefaultCadence is the follow-up cadence per grade: A daily, B weekly,
// C every 15 days, D monthly, E yearly.
var DefaultCadence = map[string]time.Duration{
	"A": 24 * time.Hour, "B": 168 * time.Hour, "C": 360 * time.Hour, "D": 720 * time.Hour, "E": 8760 * time.Hour,
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (f *Followup) applyDefaults() {
	if f.Cadence == nil {
		f.Cadence = map[string]time.Duration{}
	}
	for g, d := range DefaultCadence {
		if _, ok := f.Cadence[g]; !ok {
			f.Cadence[g] = d
		}
	}
	if f.UnansweredAfter == 0 {
		f.UnansweredAfter = 24 * time.Hour
	}
	if len(f.WorkingDays) == 0 {
		f.WorkingDays = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	if f.WorkingHours == "" {
		f.WorkingHours = "00:00-24:00"
	}
	if f.Timezone == "" {
		f.Timezone = "UTC"
	}
}

// validate names every bad key of the followup and pool sections.
func (c *Config) validateFollowup() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	f := c.Followup
	for _, g := range slices.Sorted(maps.Keys(f.Cadence)) {
		if _, ok := DefaultCadence[g]; !ok {
			bad("followup.cadence."+g, "grades are A, B, C, D, E")
		} else if f.Cadence[g] <= 0 {
			bad("followup.cadence."+g, "must be a positive duration such as 168h")
		}
	}
	if f.UnansweredAfter < 0 {
		bad("followup.unanswered_after", "must be a positive duration such as 24h")
	}
	for i, d := range f.WorkingDays {
		if !slices.Contains(weekdays, strings.ToLower(d)) {
			bad(fmt.Sprintf("followup.working_days[%d]", i), "%q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
	}
	if _, _, err := f.Hours(); err != nil {
		bad("followup.working_hours", "%v", err)
	}
	if _, err := time.LoadLocation(f.Timezone); err != nil || f.Timezone == "Local" {
		bad("followup.timezone", "%q is not an IANA time zone such as Asia/Shanghai", f.Timezone)
	}
	if c.Pool.ReleaseAfterDays < 0 {
		bad("pool.release_after_days", "%d is negative (0 turns release off)", c.Pool.ReleaseAfterDays)
	}
	return errs
}

// Hours returns the working hours as offsets from midnight.
func (f Followup) Hours() (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(f.WorkingHours, "-")
	if ok {
		start, err = clock(strings.TrimSpace(a))
		if err == nil {
			end, err = clock(strings.TrimSpace(b))
		}
		if err == nil && end <= start {
			err = fmt.Errorf("%q ends before it starts", f.WorkingHours)
		}
		if err == nil {
			return start, end, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("%q is not HH:MM-HH:MM", f.WorkingHours)
	}
	return 0, 0, err
}

func clock(s string) (time.Duration, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); n != 2 || err != nil || len(s) != 5 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day HH:MM (00:00 to 24:00)", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// Days returns the working days indexed by time.Weekday.
func (f Followup) Days() [7]bool {
	var days [7]bool
	for _, d := range f.WorkingDays {
		if i := slices.Index(weekdays, strings.ToLower(d)); i >= 0 {
			days[i] = true
		}
	}
	return days
}

// Location returns the time zone (UTC when it does not load; Validate
// reports that).
func (f Followup) Location() *time.Location {
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
