// Package matcher decides which customer each external participant of a
// message belongs to. It is a pure function over an in-memory index built
// once from the customer list (New), so matching a message costs
// microseconds and needs no database.
//
// The rules are those of the labeled corpus (shared/corpus/dev/README.md):
// exact contact address first, then domain (equal or a subdomain on a label
// boundary, most specific wins, free-mail never by domain, lowest customer
// ID on ties); our own domains and reps' addresses are internal; suppliers,
// robots and look-alikes are never customers.
package matcher

import (
	"cmp"
	"slices"
	"strings"
)

// Matcher is an immutable index of a Directory. It is safe for concurrent
// use; rebuild it with New when the customer list changes.
type Matcher struct {
	free FreeMail

	// domains holds every domain the rules look at, so resolving an
	// address walks its parent domains once: ours, suppliers', free-mail
	// and customers' entries side by side.
	domains map[string]domInfo
	// emails maps exact addresses to a customer index, or to repMark or a
	// supplier (supplierMark - i). Reps go in first, then suppliers, then
	// customers in ID order; the first to claim an address keeps it.
	emails *strTable

	suppliers []string
	cust      []custInfo // in ID order

	looks *lookalikes
	names *nameIndex
}

const (
	repMark      = -1
	supplierMark = -2 // supplier i is stored as supplierMark - i
)

type domInfo struct {
	cust, sup int32 // -1 when none
	own, free bool
}

var noDomain = domInfo{cust: -1, sup: -1}

type custInfo struct {
	ID   int64
	Name string
	Auto bool // Customer.AutoCreated
}

// New builds the index. Entries that do not normalise are skipped, as are
// public suffixes ("co.uk") given as domains and free-mail domains given as
// customer, supplier or company domains (free-mail users match only by
// exact address; put reps' free-mail addresses in RepAddresses). When
// customers share a domain, address or name, the lowest ID keeps it. New
// does not retain d.
func New(d Directory) *Matcher {
	m := &Matcher{
		free:    d.FreeMail,
		domains: map[string]domInfo{},
		looks:   newLookalikes(),
		names:   newNameIndex(),
	}
	if m.free.IsZero() {
		m.free = DefaultFreeMail()
	}
	for dom := range m.free.set {
		m.domains[dom] = domInfo{cust: -1, sup: -1, free: true}
	}
	contacts := 0
	for _, c := range d.Customers {
		contacts += len(c.Emails) // learned ones included: an upper bound
	}
	m.emails = newStrTable(len(d.RepAddresses) + contacts)

	for _, dom := range d.CompanyDomains {
		m.putDomain(dom, func(e *domInfo) { e.own = true })
		if n, ok := m.indexableDomain(dom); ok {
			m.looks.add(n, -1)
		}
	}
	for _, a := range d.RepAddresses {
		if n, ok := Normalize(a); ok {
			m.emails.put(n, repMark)
		}
	}
	for i, s := range d.Suppliers {
		m.suppliers = append(m.suppliers, s.Name)
		for _, a := range s.Emails {
			if n, ok := Normalize(a); ok {
				m.emails.put(n, supplierMark-int32(i))
			}
		}
		for _, dom := range s.Domains {
			m.putDomain(dom, func(e *domInfo) {
				if e.sup < 0 {
					e.sup = int32(i)
				}
			})
		}
	}
	m.indexCustomers(d.Customers)
	m.emails.freeze()
	m.looks.seal()
	m.names.seal()
	return m
}

func (m *Matcher) indexCustomers(cs []Customer) {
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cs[a].ID, cs[b].ID) })
	m.cust = make([]custInfo, 0, len(cs))
	for _, k := range order {
		c := &cs[k]
		ci := int32(len(m.cust))
		m.cust = append(m.cust, custInfo{ID: c.ID, Name: strings.Clone(c.Name), Auto: c.AutoCreated})
		for _, dom := range c.Domains {
			dom = withoutWWW(dom) // stored before writes dropped the www.
			if m.putDomain(dom, func(e *domInfo) {
				if e.cust < 0 {
					e.cust = ci
				}
			}) {
				n, _ := m.indexableDomain(dom)
				m.looks.add(n, ci)
			}
		}
		for _, e := range c.Emails {
			if n, ok := Normalize(e.Email); ok && !e.Learned {
				m.emails.put(n, ci)
			}
		}
		if !c.AutoCreated {
			m.names.add(companyCore(c.Name), ci, false)
		}
	}
	for ci, k := range order {
		for _, e := range cs[k].Emails {
			m.names.add(contactCore(e.Name), int32(ci), true)
		}
	}
}

// putDomain applies set to the entry of an indexable domain; false when the
// domain is junk, a public suffix or free-mail.
func (m *Matcher) putDomain(dom string, set func(*domInfo)) bool {
	n, ok := m.indexableDomain(dom)
	if !ok {
		return false
	}
	e, found := m.domains[n]
	if !found {
		e = noDomain
		n = strings.Clone(n) // do not keep the caller's Directory alive
	}
	set(&e)
	m.domains[n] = e
	return true
}

func (m *Matcher) indexableDomain(dom string) (string, bool) {
	n, ok := normalizeDomain(dom)
	if !ok || isPublicSuffix(n) || m.free.Contains(n) {
		return "", false
	}
	return n, true
}

// Customers is the number of customers indexed.
func (m *Matcher) Customers() int { return len(m.cust) }

// CustomerName returns the name of a customer ID as given to New, or "".
func (m *Matcher) CustomerName(id int64) string {
	if c := m.customer(id); c != nil {
		return c.Name
	}
	return ""
}

// AutoCreated reports whether customer id, as the matcher knows it, was
// created from mail.
func (m *Matcher) AutoCreated(id int64) bool {
	c := m.customer(id)
	return c != nil && c.Auto
}

func (m *Matcher) customer(id int64) *custInfo {
	i, ok := slices.BinarySearchFunc(m.cust, id, func(c custInfo, id int64) int { return cmp.Compare(c.ID, id) })
	if !ok {
		return nil
	}
	return &m.cust[i]
}

// FreeMail returns the free-mail list in use.
func (m *Matcher) FreeMail() FreeMail { return m.free }
