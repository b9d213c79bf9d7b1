// Package eval measures mailtrail against the labelled dev corpus
// (../shared/corpus/dev): the corpus is loaded into a real Dovecot, synced
// through the real pipeline, and what was stored is compared with
// labels.jsonl. Its test prints the figures quoted in the issue notes.
package eval

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
)

// Label is one line of labels.jsonl.
type Label struct {
	File       []string `json:"file"`
	MessageID  *string  `json:"message_id"`
	Capture    bool     `json:"capture"`
	Customer   *string  `json:"customer"`
	Customers  []string `json:"customers"`
	Kind       *string  `json:"kind"`
	Equivalent []string `json:"equivalent_customers"`
	Category   string   `json:"category"`
	Lang       string   `json:"lang"`
	Reason     string   `json:"reason"`
}

// Want returns the expected customer keys.
func (l Label) Want() []string {
	if l.Customer != nil {
		return []string{*l.Customer}
	}
	return l.Customers
}

// Company is company.json.
type Company struct {
	Name      string   `json:"name"`
	Domains   []string `json:"domains"`
	Reps      []Rep    `json:"reps"`
	Suppliers []struct {
		Name    string   `json:"name"`
		Domains []string `json:"domains"`
		Emails  []string `json:"emails"`
	} `json:"suppliers"`
}

// Rep is a rep of the corpus company and where their mail is.
type Rep struct {
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
	Folders []string `json:"folders"`
	Mailbox string   `json:"mailbox"`
}

// Load reads company.json and labels.jsonl from dir.
func Load(dir string) (*Company, []Label, error) {
	b, err := os.ReadFile(filepath.Join(dir, "company.json"))
	if err != nil {
		return nil, nil, err
	}
	var c Company
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var labels []Label
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, nil, err
		}
		labels = append(labels, l)
	}
	return &c, labels, sc.Err()
}
