package matcher

// Addr is one mailbox as the parser found it: the decoded display name and
// the address as written (any case, Unicode or punycode domain, possibly
// still wrapped in "Name <...>"). Only Email is evidence of who someone is;
// Name is looked at solely to flag impersonation.
type Addr struct {
	Name  string
	Email string
}

// Envelope is the part of a parsed message the matcher needs. Reply-To and
// Sender are deliberately absent: they are never evidence of the customer.
type Envelope struct {
	From, To, Cc, Bcc []Addr

	// Forwarded holds, per message forwarded inside this one (an inline
	// "From:"/"发件人:" block or an attached message/rfc822), that message's
	// From addresses. It is used only when the visible counterparts are all
	// internal, i.e. a colleague forwarding a buyer's mail.
	Forwarded [][]Addr
}

// Contact is a known address of a customer, with the person's name if the
// CRM has one (used only to flag display names that imitate the person).
type Contact struct {
	Email string
	Name  string
	// Learned marks an address only seen in mail at one of the customer's
	// domains (the store records such senders with their names). It is not
	// evidence: the address is left out of the exact-address index, so a
	// more specific customer domain still wins for it, and only the name
	// is indexed for the impersonation checks.
	Learned bool
}

// Customer is one row of the customer list. ID is the caller's identifier;
// when two rows claim the same domain or address, the lower ID wins, so IDs
// should grow with import order. Domains may be Unicode or punycode, any
// case; free-mail domains listed here are ignored for domain matching.
type Customer struct {
	ID      int64
	Name    string
	Domains []string
	Emails  []Contact
	// AutoCreated marks a customer the store created from mail, not one a
	// person listed. Its name (derived from a domain or a display name) is
	// not used to flag imitations, and it does not vouch for itself: mail
	// matched to it is still checked against the listed customers for
	// look-alike domains and imitating display names, so a phisher that
	// became a customer before the real customer list was imported is
	// caught once the list is there.
	AutoCreated bool
}

// Supplier is a factory we buy from. Mail with a supplier on the other side
// is never captured. Emails covers suppliers on free-mail (a qq.com address);
// a free-mail domain in Domains is ignored.
type Supplier struct {
	Name    string
	Domains []string
	Emails  []string
}

// Directory is everything the matcher is built from. It is read once by New
// and not retained.
type Directory struct {
	Customers []Customer
	// CompanyDomains are our own domains; addresses on them and on their
	// subdomains (mx.example.com) are internal.
	CompanyDomains []string
	// RepAddresses are reps' addresses and aliases; internal even when they
	// are off our domains.
	RepAddresses []string
	Suppliers    []Supplier
	// FreeMail is the free-mail list. The zero value means DefaultFreeMail();
	// use NewFreeMail() for a deliberately empty list.
	FreeMail FreeMail
}

// Class says what kind of party an address is. The constants carry a
// Class prefix because Customer and Supplier are the directory's types.
type Class uint8

const (
	// ClassInvalid: the address could not be normalised (empty, junk, group
	// syntax, address literal). Never a party.
	ClassInvalid Class = iota
	// ClassInternal: on CompanyDomains or in RepAddresses.
	ClassInternal
	// ClassSupplier: a supplier's exact address or domain.
	ClassSupplier
	// ClassRobot: a no-reply, mailer-daemon, postmaster or notification sender.
	// Never a customer, even on a customer's domain.
	ClassRobot
	// ClassCustomer: a known customer, by exact address or by domain.
	ClassCustomer
	// ClassNewDomain: an unknown corporate domain; a new buyer keyed by domain.
	ClassNewDomain
	// ClassNewEmail: an unknown free-mail address; a new buyer keyed by address.
	ClassNewEmail
	// ClassSuspicious: look-alike domain or impersonating display name. Never a
	// customer and never auto-created; Resolution.Suspicion says why.
	ClassSuspicious
)

var classNames = [...]string{"invalid", "internal", "supplier", "robot", "customer", "new_domain", "new_email", "suspicious"}

// String is the class in snake_case ("new_domain"), for logs and JSON.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class(?)"
}

// Via says how a Customer was matched.
type Via uint8

const (
	ViaNone   Via = iota // not a Customer
	ViaEmail             // exact contact address
	ViaDomain            // address domain equals, or is a subdomain of, a customer domain
)

// Suspicion says why an address is Suspicious. SameNameOtherSuffix is the
// one value that comes with ClassNewDomain: a hint for a human, not a
// verdict (see Resolution.Suspicion).
type Suspicion uint8

const (
	NotSuspicious Suspicion = iota
	// LookAlikeDomain: the registrable label is a typo or homoglyph of a
	// customer's (sunrise-tradlng.com for sunrise-trading.ae).
	LookAlikeDomain
	// LookAlikeOwnDomain: the same, of one of our own domains.
	LookAlikeOwnDomain
	// NameImitatesCompany: the display name contains a customer's company
	// name while the address is not that customer's.
	NameImitatesCompany
	// NameImitatesContact: the display name is a customer contact's name
	// while the address is not that customer's.
	NameImitatesContact
	// NameShowsOtherAddress: the display name contains a different address
	// that belongs to a customer or to us ("rashid@sunrise-trading.ae"
	// <x@evil.example>).
	NameShowsOtherAddress
	// SameNameOtherSuffix (with ClassNewDomain only): the registrable label
	// equals a customer's under another suffix (brightline-electrical.com.ng
	// vs brightline-electrical.com). The corpus labels such a sender a
	// legitimate new buyer, so it is not Suspicious on its own; it becomes
	// Suspicious only if the display name also imitates a customer.
	SameNameOtherSuffix
)

var suspicionNames = [...]string{"", "look_alike_domain", "look_alike_own_domain", "name_imitates_company", "name_imitates_contact", "name_shows_other_address", "same_name_other_suffix"}

// String is the reason in snake_case ("look_alike_domain"); "" for none.
func (s Suspicion) String() string {
	if int(s) < len(suspicionNames) {
		return suspicionNames[s]
	}
	return "suspicion(?)"
}

// Resolution is what one address is. Fields not relevant to Class are zero.
type Resolution struct {
	Class  Class
	Email  string // normalised address; "" when Invalid
	Domain string // normalised (punycode) domain of Email

	// Customer: the matched customer and how. MatchedDomain is the customer
	// domain entry that matched (acme.co.uk for sales.acme.co.uk).
	CustomerID    int64
	Via           Via
	MatchedDomain string

	// NewKey is the new-buyer key: the registrable domain (or the domain
	// itself when it has none) for NewDomain, the address for NewEmail.
	NewKey string

	// SupplierName names the supplier for ClassSupplier.
	SupplierName string

	// Suspicion says why for ClassSuspicious (and carries the
	// SameNameOtherSuffix hint on NewDomain). Imitated is the customer
	// imitated, except for LookAlikeOwnDomain and an imitated address of
	// ours, where ImitatesUs is set instead. Detail is for people.
	Suspicion  Suspicion
	Imitated   int64
	ImitatesUs bool
	Detail     string
}

// Key is the timeline key of a buyer party in the corpus' notation:
// "new:domain:<domain>" or "new:email:<address>" for new buyers, "" for
// every other class (a Customer is keyed by CustomerID).
func (r Resolution) Key() string {
	switch r.Class {
	case ClassNewDomain:
		return "new:domain:" + r.NewKey
	case ClassNewEmail:
		return "new:email:" + r.NewKey
	}
	return ""
}

// IsBuyer reports whether the party goes on a timeline: a known customer or
// a new buyer.
func (r Resolution) IsBuyer() bool {
	return r.Class == ClassCustomer || r.Class == ClassNewDomain || r.Class == ClassNewEmail
}

// Direction of a message relative to us.
type Direction string

const (
	In  Direction = "in"  // From is not internal
	Out Direction = "out" // From is internal
)

// Party is one counterpart of a message with its resolution.
type Party struct {
	Addr       Addr
	Resolution Resolution
}

// Result is the matcher's verdict on a message.
type Result struct {
	Direction Direction
	// InternalOnly: every participant, and every forwarded sender, is
	// internal. Such mail is never captured.
	InternalOnly bool
	// Supplier: a supplier is among the counterparts. Such mail is never
	// captured, whichever direction, whatever it contains.
	Supplier bool
	// FromForward: the counterparts are the senders of forwarded mail
	// (an internal colleague forwarded a buyer's message).
	FromForward bool
	// Parties are the counterparts, deduplicated: one per customer ID, per
	// new-buyer key, or per address for the other classes; in header order
	// (From, To, Cc, Bcc). Internal and Invalid addresses are left out.
	Parties []Party
}

// Buyers returns the parties that go on a timeline (IsBuyer), or nil when
// the message is internal-only or supplier mail. Whether the message is a
// newsletter, auto-reply or bounce is the classifier's call, not this one.
func (r Result) Buyers() []Party {
	if r.InternalOnly || r.Supplier {
		return nil
	}
	var out []Party
	for _, p := range r.Parties {
		if p.Resolution.IsBuyer() {
			out = append(out, p)
		}
	}
	return out
}
