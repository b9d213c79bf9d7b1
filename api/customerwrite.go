package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

// Field limits of a customer.
const (
	maxNameLen     = 200
	maxShortLen    = 100 // phone, country
	maxDomains     = 50
	maxContacts    = 500
	maxContactName = 200
)

// customerBody is the JSON of POST /customers and PATCH /customers/{id}.
// For PATCH, absent fields stay as they are; null or "" clears grade and
// owner; domains and contacts replace the whole list.
type customerBody struct {
	Name     optString      `json:"name"`
	Grade    optString      `json:"grade"`
	Owner    optString      `json:"owner"`
	Phone    optString      `json:"phone"`
	Country  optString      `json:"country"`
	Domains  *[]string      `json:"domains"`
	Contacts *[]contactBody `json:"contacts"`
}

type contactBody struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// patch validates and normalizes the body: names, grades, addresses
// (matcher.Normalize) and domains (matcher.CustomerDomain: www.acme.com is
// acme.com), naming the field of the first problem. A
// domain that isFree reports as free-mail is refused.
func (b *customerBody) patch(create bool, isFree func(domain string) bool) (timeline.CustomerPatch, error) {
	var p timeline.CustomerPatch
	text := func(field string, o optString, max int, required bool) (*string, error) {
		if !o.Set {
			if required {
				return nil, badField{field, "required"}
			}
			return nil, nil
		}
		v := strings.TrimSpace(o.orEmpty())
		switch {
		case required && v == "":
			return nil, badField{field, "must not be empty"}
		case utf8.RuneCountInString(v) > max:
			return nil, badField{field, fmt.Sprintf("longer than %d characters", max)}
		case strings.ContainsAny(v, "\x00\r\n"):
			return nil, badField{field, "must be one line of text"}
		}
		return &v, nil
	}
	var err error
	if p.Name, err = text("name", b.Name, maxNameLen, create || b.Name.Set); err != nil {
		return p, err
	}
	if p.Phone, err = text("phone", b.Phone, maxShortLen, false); err != nil {
		return p, err
	}
	if p.Country, err = text("country", b.Country, maxShortLen, false); err != nil {
		return p, err
	}
	if b.Grade.Set {
		g := strings.ToUpper(strings.TrimSpace(b.Grade.orEmpty()))
		if g != "" && (len(g) != 1 || !strings.Contains("ABCDE", g)) {
			return p, badField{"grade", fmt.Sprintf("%q is not one of A, B, C, D, E (or null)", b.Grade.orEmpty())}
		}
		p.Grade = &g
	}
	if b.Owner.Set {
		o := ""
		if v := strings.TrimSpace(b.Owner.orEmpty()); v != "" {
			n, ok := matcher.Normalize(v)
			if !ok {
				return p, badField{"owner", fmt.Sprintf("%q is not an e-mail address", v)}
			}
			o = n
		}
		p.Owner = &o
	}
	if b.Domains != nil {
		if len(*b.Domains) > maxDomains {
			return p, badField{"domains", fmt.Sprintf("more than %d", maxDomains)}
		}
		ds := []string{}
		for i, d := range *b.Domains {
			field := "domains[" + strconv.Itoa(i) + "]"
			dom, ok := matcher.CustomerDomain(d)
			if !ok {
				return p, badField{field, fmt.Sprintf("%q is not a domain", d)}
			}
			if isFree(dom) {
				return p, badField{field, fmt.Sprintf("%s is a free-mail domain: it never identifies a customer; add the addresses under contacts", dom)}
			}
			if !slices.Contains(ds, dom) {
				ds = append(ds, dom)
			}
		}
		p.Domains = &ds
	}
	if b.Contacts != nil {
		if len(*b.Contacts) > maxContacts {
			return p, badField{"contacts", fmt.Sprintf("more than %d", maxContacts)}
		}
		cs := []timeline.Contact{}
		seen := map[string]bool{}
		for i, c := range *b.Contacts {
			field := "contacts[" + strconv.Itoa(i) + "]"
			n, ok := matcher.Normalize(c.Email)
			if !ok {
				return p, badField{field + ".email", fmt.Sprintf("%q is not an e-mail address", c.Email)}
			}
			name := strings.TrimSpace(c.Name)
			if utf8.RuneCountInString(name) > maxContactName || strings.ContainsAny(name, "\x00\r\n") {
				return p, badField{field + ".name", fmt.Sprintf("must be one line of at most %d characters", maxContactName)}
			}
			if !seen[n] {
				seen[n] = true
				cs = append(cs, timeline.Contact{Email: n, Name: name})
			}
		}
		p.Contacts = &cs
	}
	return p, nil
}

// customerPatch reads and checks a customer body (create: the name is
// required), writing the error when it is bad.
func (s *Server) customerPatch(w http.ResponseWriter, r *http.Request, create bool) (timeline.CustomerPatch, bool) {
	var b customerBody
	if err := decodeJSON(w, r, maxSmallBody, &b); err != nil {
		s.fail(w, r, err)
		return timeline.CustomerPatch{}, false
	}
	p, err := b.patch(create, s.freeMail)
	if err != nil {
		s.fail(w, r, err)
		return timeline.CustomerPatch{}, false
	}
	return p, true
}

// createCustomer: POST /api/v1/customers (admin, manager). The stored
// mail it concerns is queued for re-matching in the same transaction
// (timeline.CreateCustomer); the daemon drains the queue.
func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, managers...) {
		return
	}
	p, ok := s.customerPatch(w, r, true)
	if !ok {
		return
	}
	in := timeline.CustomerInput{Name: *p.Name, Grade: deref(p.Grade), Owner: deref(p.Owner),
		Phone: deref(p.Phone), Country: deref(p.Country)}
	if p.Domains != nil {
		in.Domains = *p.Domains
	}
	if p.Contacts != nil {
		in.Contacts = *p.Contacts
	}
	var c timeline.Customer
	err := s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		id, err := timeline.CreateCustomer(r.Context(), tx, in, "api", principal(r).Name)
		if err != nil {
			return err
		}
		c, err = timeline.GetCustomer(r.Context(), tx, id)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/customers/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
}

// updateCustomer: PATCH /api/v1/customers/{id} (admin, manager). As for
// create, the mail a change concerns is queued for re-matching in the same
// transaction (timeline.UpdateCustomer).
func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, managers...) {
		return
	}
	id, ok := s.customerParam(w, r, "id")
	if !ok {
		return
	}
	p, ok := s.customerPatch(w, r, false)
	if !ok {
		return
	}
	var c timeline.Customer
	err := s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		if err := timeline.UpdateCustomer(r.Context(), tx, id, p, "api", principal(r).Name); err != nil {
			return err
		}
		var err error
		c, err = timeline.GetCustomer(r.Context(), tx, id)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
