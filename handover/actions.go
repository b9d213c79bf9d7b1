package handover

import (
	"fmt"
	"strings"
)

// nextAction suggests the one thing the new owner should do first, from
// the most to the least urgent: quote an open inquiry, answer a customer
// who is waiting, chase a quote, get the history where no mail was
// captured, follow up by the grade's cadence; and for a customer only this
// rep knew, introduce the new owner.
func nextAction(c *Customer, o Options) string {
	var a string
	switch {
	case len(c.OpenInquiries) > 0:
		it := c.OpenInquiries[len(c.OpenInquiries)-1]
		a = fmt.Sprintf("Quote the open inquiry %q from %s (%s, %s)", DisplaySubject(it.Subject),
			orSomeone(it.Counterpart), it.At.Format("2006-01-02"), ago(it.AgeDays))
		if n := len(c.OpenInquiries); n > 1 {
			a += fmt.Sprintf(" and %d older one%s", n-1, plural(n-1))
		}
	case waiting(c) != nil:
		t := waiting(c)
		a = fmt.Sprintf("Reply to %s about %q (waiting since %s)", orSomeone(t.LastFrom), t.Subject, t.LastAt.Format("2006-01-02"))
	case len(c.UnansweredQuotes) > 0:
		q := c.UnansweredQuotes[len(c.UnansweredQuotes)-1]
		a = fmt.Sprintf("Chase the quote %q sent to %s on %s (no reply for %d day%s)", DisplaySubject(q.Subject),
			orSomeone(q.Counterpart), q.At.Format("2006-01-02"), q.AgeDays, plural(q.AgeDays))
	case c.LastActivity == nil:
		a = "No mail captured with this customer: ask " + o.Rep + " for the contact history before they leave"
	case c.FollowUp != nil:
		f := c.FollowUp
		last := "nobody has written to them yet"
		if f.LastContact != nil {
			last = "last contact " + f.LastContact.Format("2006-01-02")
		}
		a = fmt.Sprintf("Follow up: %s, %d day%s past the %s cadence (every %d day%s)",
			last, f.OverdueDays, plural(f.OverdueDays), gradeName(c.Grade), f.CadenceDays, plural(f.CadenceDays))
	case c.Grade == "":
		a = "Nothing pending; no grade, so no follow-up is ever due: grade them"
	default:
		a = "Nothing pending: keep in touch by the " + gradeName(c.Grade) + " cadence"
	}
	if c.SoleContact {
		who := "the customer"
		if len(c.KeyContacts) > 0 {
			who = c.KeyContacts[0].Email
		}
		a += "; introduce the new owner to " + who + ": nobody else here has corresponded with them"
	}
	return a + "."
}

// waiting returns the most recent active thread in which the customer
// spoke last, or nil.
func waiting(c *Customer) *Thread {
	for i := range c.ActiveThreads {
		if c.ActiveThreads[i].WaitingOnUs {
			return &c.ActiveThreads[i]
		}
	}
	return nil
}

func gradeName(g string) string {
	if g == "" {
		return "ungraded"
	}
	return "grade " + g
}

func ago(days int) string {
	switch days {
	case 0:
		return "today"
	case 1:
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", days)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func orSomeone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "the customer"
	}
	return s
}
