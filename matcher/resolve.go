package matcher

import (
	"bytes"
	"strings"
)

// Resolve classifies one address. The order is the corpus' precedence:
//
//  1. Internal: our domains (and subdomains) or a rep's address.
//  2. Supplier by exact address.
//  3. Robot: no-reply, mailer-daemon, postmaster, notification senders,
//     even on a customer's domain (a bounce from mx.customer.com is not the
//     customer writing).
//  4. Customer by exact contact address (lowest ID if listed twice).
//  5. Supplier by domain.
//  6. Customer by domain: equal or subdomain on a label boundary, the most
//     specific entry first; never for free-mail domains. Role addresses
//     (info@, sales@) of a customer domain are that customer's.
//  7. Otherwise a new buyer, NewEmail on free-mail or NewDomain, unless the
//     domain is a look-alike of a customer's or ours, or the display name
//     imitates a customer: then Suspicious.
//
// a.Name is used only for step 7's impersonation checks; it never makes a
// match. An address that does not normalise is Invalid.
func (m *Matcher) Resolve(a Addr) Resolution {
	r, ci := m.resolveAddr(a.Email)
	switch {
	case r.Class == ClassNewDomain || r.Class == ClassNewEmail:
		m.suspect(&r, a.Name, false)
	case r.Class == ClassCustomer && m.cust[ci].Auto:
		m.suspectAuto(&r, a.Name)
	}
	return r
}

// suspectAuto applies the new-buyer checks to mail matched to a customer
// created from mail (see Customer.AutoCreated): look-alike of a listed
// customer's domain or ours, or a display name imitating a listed customer
// or contact. When one holds, the address is Suspicious instead.
func (m *Matcher) suspectAuto(r *Resolution, name string) {
	as := *r
	as.Class = ClassNewEmail
	if r.Via == ViaDomain {
		as.Class = ClassNewDomain
		as.NewKey, _ = registrable(r.Domain)
	}
	m.suspect(&as, name, true)
	if as.Class == ClassSuspicious {
		as.CustomerID, as.Via, as.MatchedDomain = 0, ViaNone, ""
		*r = as
	}
}

// resolveAddr is Resolve without the display-name checks and the checks
// of customers created from mail. ci is the index of the customer of a
// ClassCustomer resolution.
func (m *Matcher) resolveAddr(email string) (r Resolution, ci int32) {
	email, ok := Normalize(email)
	if !ok {
		return Resolution{}, -1
	}
	local, dom := splitAddr(email)
	r = Resolution{Email: email, Domain: dom}
	ci = -1

	// One walk up the parent domains collects what each rule needs: ours
	// anywhere, the most specific supplier and customer entries, free-mail.
	own, free := false, false
	sup, cust := int32(-1), int32(-1)
	var custDom string
	parents(dom, func(d string) bool {
		e, ok := m.domains[d]
		if !ok {
			return false
		}
		own = own || e.own
		free = free || e.free
		if sup < 0 {
			sup = e.sup
		}
		if cust < 0 && e.cust >= 0 {
			cust, custDom = e.cust, d
		}
		return false
	})

	v, exact := m.emails.get(email)
	switch {
	case own || exact && v == repMark:
		r.Class = ClassInternal
	case exact && v <= supplierMark:
		r.Class, r.SupplierName = ClassSupplier, m.suppliers[supplierMark-v]
	case isRobot(local):
		r.Class = ClassRobot
	case exact && v >= 0:
		r.Class, r.Via, r.CustomerID, ci = ClassCustomer, ViaEmail, m.cust[v].ID, v
	case sup >= 0:
		r.Class, r.SupplierName = ClassSupplier, m.suppliers[sup]
	case free:
		r.Class, r.NewKey = ClassNewEmail, email
	case cust >= 0:
		r.Class, r.Via, r.CustomerID, r.MatchedDomain, ci = ClassCustomer, ViaDomain, m.cust[cust].ID, custDom, cust
	default:
		r.Class = ClassNewDomain
		r.NewKey, _ = registrable(dom)
	}
	return r, ci
}

// suspect turns a new buyer into Suspicious when its domain is a look-alike
// or its display name imitates someone; it adds the SameNameOtherSuffix
// hint to a NewDomain that shares a customer's label.
//
// listedOnly compares with the listed customers and ours only, leaving out
// the customers created from mail (the one the address matched among them).
func (m *Matcher) suspect(r *Resolution, name string, listedOnly bool) {
	var skip func(int32) bool
	if listedOnly {
		skip = func(ci int32) bool { return ci >= 0 && m.cust[ci].Auto }
	}
	if r.Class == ClassNewDomain {
		if hit, same, ok := m.looks.check(r.Domain, skip); ok {
			switch {
			case hit.cust < 0:
				r.Class, r.Suspicion, r.ImitatesUs = ClassSuspicious, LookAlikeOwnDomain, true
				r.Detail = "domain " + r.NewKey + " looks like our " + hit.regdom
				return
			case !same:
				r.Class, r.Suspicion, r.Imitated = ClassSuspicious, LookAlikeDomain, m.cust[hit.cust].ID
				r.Detail = "domain " + r.NewKey + " looks like " + hit.regdom + " of " + m.cust[hit.cust].Name
				return
			default:
				r.Suspicion, r.Imitated = SameNameOtherSuffix, m.cust[hit.cust].ID
				r.Detail = "same name as " + hit.regdom + " of " + m.cust[hit.cust].Name + " under another suffix"
			}
		}
	}
	if name == "" {
		return
	}
	if other, oci, ok := m.addressInName(name, r.Email); ok && !(listedOnly && oci >= 0 && m.cust[oci].Auto) {
		r.Class, r.Suspicion = ClassSuspicious, NameShowsOtherAddress
		r.Imitated, r.ImitatesUs = other.CustomerID, other.Class == ClassInternal
		r.Detail = "display name shows " + other.Email + " but the address is " + r.Email
		return
	}
	if ci, contact, ok := m.names.find(name); ok && (skip == nil || !skip(ci)) {
		c := m.cust[ci]
		r.Class, r.Imitated = ClassSuspicious, c.ID
		if contact {
			r.Suspicion = NameImitatesContact
			r.Detail = "display name is a contact of " + c.Name + " but " + r.Domain + " is not theirs"
		} else {
			r.Suspicion = NameImitatesCompany
			r.Detail = "display name names " + c.Name + " but " + r.Domain + " is not theirs"
		}
	}
}

// addressInName finds an address written inside a display name that is not
// the real address and belongs to a customer or to us.
func (m *Matcher) addressInName(name, real string) (Resolution, int32, bool) {
	if !strings.ContainsAny(name, "@＠") {
		return Resolution{}, -1, false
	}
	for _, f := range strings.FieldsFunc(name, func(r rune) bool {
		return r == ' ' || r == '<' || r == '>' || r == '"' || r == '\'' || r == '(' || r == ')' || r == ',' || r == ';' || r == '[' || r == ']'
	}) {
		if !strings.ContainsAny(f, "@＠") {
			continue
		}
		o, ci := m.resolveAddr(f)
		if o.Email != "" && o.Email != real && (o.Class == ClassCustomer || o.Class == ClassInternal) {
			return o, ci, true
		}
	}
	return Resolution{}, -1, false
}

// robotWords are what an automated sender's local part says, as whole
// words: see isRobot. Role addresses such as info@ or sales@ are people.
var robotWords = setOf(
	"noreply", "donotreply", "mailerdaemon", "postmaster", "notification", "notifications", "notify",
	"notifier", "bounce", "bounces", "noresponder", "naoresponda", "noresponda", "nepasrepondre",
	"nichtantworten",
)

// isRobot reports whether a (lower-case) local part names an automated
// sender. It is split into words on ".", "_", "-", "+" and "=", and each
// run of consecutive words, joined, is looked up in robotWords with any
// trailing digits dropped: "no-reply", "do_not_reply", "mailer-daemon",
// "rfq-noreply", "bounces+1234" and "noreply2" are robots. A word that
// merely contains one is not evidence: "notifyme.john" and "bouncer.li"
// are people. Exchange's non-delivery reports come from
// "MicrosoftExchange" and a hex id.
func isRobot(local string) bool {
	var words [12]string
	n, start := 0, 0
	for i := 0; i <= len(local) && n < len(words); i++ {
		if i < len(local) && strings.IndexByte(".-_+=", local[i]) < 0 {
			continue
		}
		if i > start {
			words[n] = local[start:i]
			n++
		}
		start = i + 1
	}
	var buf [64]byte
	for i := 0; i < n; i++ {
		b := buf[:0]
		for j := i; j < n && len(b)+len(words[j]) <= len(buf); j++ {
			b = append(b, words[j]...)
			if robotRun(b) {
				return true
			}
		}
	}
	return false
}

func robotRun(b []byte) bool {
	if rest, ok := bytes.CutPrefix(b, []byte("microsoftexchange")); ok && isHex(rest) {
		return true
	}
	k := len(b)
	for k > 0 && b[k-1] >= '0' && b[k-1] <= '9' {
		k--
	}
	return robotWords[string(b[:k])] // no allocation: a map lookup by converted bytes
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
