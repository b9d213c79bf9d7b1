package timeline

import (
	"time"

	"github.com/mailtrail/mailtrail/message"
)

// Event kinds.
const (
	KindInquiry = "inquiry"
	KindQuote   = "quote"
	KindEmail   = "email"
)

// Customer is a buyer. Grade and Owner are empty when unknown.
type Customer struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Grade       string    `json:"grade,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	Country     string    `json:"country,omitempty"`
	AutoCreated bool      `json:"auto_created"`
	Domains     []string  `json:"domains"`
	Emails      []string  `json:"emails"`
	CreatedAt   time.Time `json:"created_at"`
}

// Contact is one address of a customer. Learned marks an address seen in
// mail at the customer's domain rather than listed (contacts.learned).
type Contact struct {
	Email   string
	Name    string
	Learned bool
}

// Event is one message on one customer's timeline, with the message fields
// a reader needs.
type Event struct {
	ID          int64                `json:"event_id"`
	CustomerID  int64                `json:"customer_id"`
	Kind        string               `json:"kind"`
	Direction   string               `json:"direction"`
	Rep         string               `json:"rep"`
	OccurredAt  time.Time            `json:"occurred_at"`
	Rule        string               `json:"rule"`
	Confidence  float32              `json:"confidence"`
	MessageID   *string              `json:"message_id"`
	Subject     string               `json:"subject"`
	From        []message.Address    `json:"from"`
	To          []message.Address    `json:"to"`
	Cc          []message.Address    `json:"cc"`
	Snippet     string               `json:"snippet,omitempty"`
	Attachments []message.Attachment `json:"attachments"`
	EventLinks
}

// EventLinks are an event's thread, the links of an inquiry, a person's
// correction of the kind and what a quote states. Empty ones are left out
// of JSON, except thread_id.
type EventLinks struct {
	ThreadID     *int64      `json:"thread_id"`
	QuoteEventID *int64      `json:"quote_event_id,omitempty"` // inquiry: the quote that answers it
	QuotedAt     *time.Time  `json:"quoted_at,omitempty"`
	ReplyEventID *int64      `json:"reply_event_id,omitempty"` // inquiry: the first outbound event after it
	RepliedAt    *time.Time  `json:"replied_at,omitempty"`
	Correction   *Correction `json:"correction,omitempty"`
	QuoteRef     *string     `json:"quote_ref,omitempty"`
	Currency     *string     `json:"currency,omitempty"`
	Amount       *float64    `json:"amount,omitempty"`
}

// Correction is a person's verdict on an event's kind; it wins over the
// rules, whose verdict stays in Rule.
type Correction struct {
	Kind string    `json:"kind"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}
