package matcher

// Match resolves a whole message (corpus README, "Which customer"):
//
//   - Direction is Out when the first valid From address is internal.
//   - Counterparts: inbound, every From address plus external Cc (not To:
//     a customer writing to us and a colleague is one conversation with
//     that customer); outbound, every external To, Cc and Bcc. When those
//     are all internal and the message carries forwarded mail, the
//     forwarded senders are the counterparts (a colleague forwarding a
//     buyer's inquiry).
//   - InternalOnly: at least one internal participant and nobody external,
//     forwarded senders included.
//   - Supplier: a supplier is a counterpart; the message is never captured.
//   - Parties: one per customer ID (two contacts of one customer are one
//     event), per new-buyer key, or per address; a price list Bcc'd to ten
//     buyers gives ten parties.
//
// Match never fails; addresses that do not normalise are ignored.
func (m *Matcher) Match(e Envelope) Result {
	res := Result{Direction: In}
	internal, external := false, false
	note := func(r Resolution) {
		switch r.Class {
		case ClassInvalid:
		case ClassInternal:
			internal = true
		default:
			external = true
		}
	}

	// One backing array for every header's resolutions: one allocation.
	all := make([]Party, 0, len(e.From)+len(e.To)+len(e.Cc)+len(e.Bcc))
	from, all := m.resolveInto(all, e.From)
	to, all := m.resolveInto(all, e.To)
	cc, all := m.resolveInto(all, e.Cc)
	bcc, all := m.resolveInto(all, e.Bcc)
	for _, p := range all {
		note(p.Resolution)
	}
	if i := firstValid(from); i >= 0 && from[i].Resolution.Class == ClassInternal {
		res.Direction = Out
	}

	var d dedup
	if res.Direction == Out {
		d.addAll(to, cc, bcc)
	} else {
		d.addAll(from, cc)
	}
	if len(d.parties) == 0 && len(e.Forwarded) > 0 {
		for _, f := range e.Forwarded {
			fw, _ := m.resolveInto(nil, f)
			for _, p := range fw {
				note(p.Resolution)
			}
			d.addAll(fw)
		}
		res.FromForward = len(d.parties) > 0
	}
	res.Parties = d.parties
	res.InternalOnly = internal && !external
	for _, p := range res.Parties {
		if p.Resolution.Class == ClassSupplier {
			res.Supplier = true
		}
	}
	return res
}

// resolveInto appends the resolutions of as to buf and returns them as
// their own slice, and the grown buf.
func (m *Matcher) resolveInto(buf []Party, as []Addr) (got, grown []Party) {
	start := len(buf)
	for _, a := range as {
		buf = append(buf, Party{Addr: a, Resolution: m.Resolve(a)})
	}
	return buf[start:len(buf):len(buf)], buf
}

func firstValid(ps []Party) int {
	for i, p := range ps {
		if p.Resolution.Class != ClassInvalid {
			return i
		}
	}
	return -1
}

// dedup collects external parties, keeping the first of each key. Small
// messages use a linear scan; a long Bcc list switches to a map.
type dedup struct {
	parties []Party
	keys    []partyKey
	seen    map[partyKey]struct{}
}

// partyKey identifies a party: the customer ID for customers, the new-buyer
// key or the address otherwise. A struct, so building it allocates nothing.
type partyKey struct {
	cust int64
	s    string
	c    Class
}

func keyOf(r Resolution) partyKey {
	switch r.Class {
	case ClassCustomer:
		return partyKey{c: r.Class, cust: r.CustomerID}
	case ClassNewDomain, ClassNewEmail:
		return partyKey{c: r.Class, s: r.NewKey}
	}
	return partyKey{c: r.Class, s: r.Email}
}

func (d *dedup) addAll(lists ...[]Party) {
	for _, l := range lists {
		for _, p := range l {
			if c := p.Resolution.Class; c == ClassInvalid || c == ClassInternal {
				continue
			}
			k := keyOf(p.Resolution)
			if d.has(k) {
				continue
			}
			d.parties = append(d.parties, p)
			d.keys = append(d.keys, k)
			if d.seen != nil {
				d.seen[k] = struct{}{}
			}
		}
	}
}

func (d *dedup) has(k partyKey) bool {
	if d.seen == nil && len(d.keys) > 16 {
		d.seen = make(map[partyKey]struct{}, 2*len(d.keys))
		for _, k := range d.keys {
			d.seen[k] = struct{}{}
		}
	}
	if d.seen != nil {
		_, ok := d.seen[k]
		return ok
	}
	for _, s := range d.keys {
		if s == k {
			return true
		}
	}
	return false
}
