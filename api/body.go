package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Request body limits. The server as a whole also caps bodies at 1 MiB
// (NewHTTPServer); these are tighter where a body is small by nature.
const (
	maxSmallBody = 64 << 10 // a customer
	maxLargeBody = 1 << 20  // a handover mapping of thousands of customers
)

// badField is an invalid request body field; the message names it.
type badField struct{ name, msg string }

func (e badField) Error() string { return e.name + ": " + e.msg }

// FieldName returns the name of the bad field.
func (e badField) FieldName() string { return e.name }

// errBodyTooLarge answers 413.
var errBodyTooLarge = errors.New("request body too large")

// errMediaType answers 415.
var errMediaType = errors.New("request body must be application/json")

// decodeJSON reads one JSON object of at most limit bytes into v,
// refusing unknown fields and trailing data. Errors name the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errMediaType
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return errBodyTooLarge
	case errors.Is(err, io.EOF):
		return badField{"body", "empty; send a JSON object"}
	case errors.As(err, &syntax):
		return badField{"body", fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return badField{field, "must be " + jsonType(typeErr.Type.String())}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badField{name, "unknown field"}
	default:
		return badField{"body", err.Error()}
	}
}

// jsonType says which JSON type a Go type is read from.
func jsonType(goType string) string {
	switch {
	case goType == "string" || goType == "api.optString":
		return "a string or null"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"), strings.HasPrefix(goType, "api."):
		return "an object"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "of type " + goType
}

// optString is a JSON field that may be absent, null or a string: Set is
// false when absent; Val is nil for null.
type optString struct {
	Set bool
	Val *string
}

func (o *optString) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Val = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o.Val = &s
	return nil
}

// orEmpty returns the value, "" for null.
func (o optString) orEmpty() string {
	if o.Val == nil {
		return ""
	}
	return *o.Val
}
