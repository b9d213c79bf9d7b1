package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/handover"
	"github.com/mailtrail/mailtrail/matcher"
)

// repParam reads the {email} path value: a rep's address, normalized.
func repParam(r *http.Request) (string, error) {
	v := r.PathValue("email")
	n, ok := matcher.Normalize(v)
	if !ok {
		return "", badParam{"email", fmt.Sprintf("%q is not an e-mail address", v)}
	}
	return n, nil
}

// handoverReport: GET /api/v1/reps/{email}/handover?format=json|md|html&months=N
// (admin, manager).
func (s *Server) handoverReport(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, managers...) {
		return
	}
	rep, err := repParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "":
		format = handover.FormatJSON
	case handover.FormatJSON, handover.FormatMarkdown, handover.FormatHTML:
	default:
		s.fail(w, r, badParam{"format", "must be json, md or html"})
		return
	}
	o := handover.Options{Rep: rep, Cadence: s.pol().Cadence}
	if v := q.Get("months"); v != "" {
		if o.Months, err = strconv.Atoi(v); err != nil || o.Months < 1 || o.Months > handover.MaxMonths {
			s.fail(w, r, badParam{"months", fmt.Sprintf("must be a whole number from 1 to %d", handover.MaxMonths)})
			return
		}
	}
	rpt, err := handover.Build(r.Context(), s.store.Pool, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := handover.Serve(w, rpt, format); err != nil {
		s.fail(w, r, err) // rendering failed: nothing was written yet
	}
}

// transferBody is the JSON of POST /api/v1/reps/{email}/handover.
type transferBody struct {
	To      string            `json:"to"`
	Mapping map[string]string `json:"mapping"`
	DryRun  bool              `json:"dry_run"`
}

// handoverTransfer: POST /api/v1/reps/{email}/handover (admin, manager).
func (s *Server) handoverTransfer(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, managers...) {
		return
	}
	rep, err := repParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b transferBody
	if err := decodeJSON(w, r, maxLargeBody, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	req := handover.TransferRequest{From: rep, To: strings.TrimSpace(b.To), DryRun: b.DryRun,
		Via: "api", Actor: principal(r).Name, Mapping: map[int64]string{}}
	for k, v := range b.Mapping {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil || id < 1 {
			s.fail(w, r, badField{"mapping." + k, "keys are customer ids (positive whole numbers)"})
			return
		}
		req.Mapping[id] = v
	}
	res, err := handover.Transfer(r.Context(), s.store, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
