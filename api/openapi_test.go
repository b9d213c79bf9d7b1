package api

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAPIDoc is the checked-in description, decoded.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("api/openapi.json: %v", err)
	}
	return doc
}

// specRoutes lists "METHOD /path" of every operation in the description.
func specRoutes(doc map[string]any) []string {
	var out []string
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesRoutes: every registered route is described and every
// described operation is registered, so the description cannot drift.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi version %q", v)
	}
	s := New(nil, nil, nil, nil)
	routes := s.Routes()
	slices.Sort(routes)
	described := specRoutes(doc)
	for _, r := range routes {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is not in api/openapi.json", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routes, d) {
			t.Errorf("api/openapi.json describes %s, which is not a route", d)
		}
	}
	// Every $ref resolves, and every path parameter is declared.
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(doc, ref) == nil {
					t.Errorf("%s: $ref %s does not resolve", where, ref)
				}
			}
			for k, x := range v {
				walk(x, where+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, where+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "#")
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			declared := parameters(doc, item.(map[string]any), op.(map[string]any), "path")
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok {
					if name = strings.TrimSuffix(name, "}"); declared[name] == nil {
						t.Errorf("%s %s: path parameter %q not declared", method, path, name)
					}
				}
			}
		}
	}
}

// TestOpenAPIServed: the description is served as checked in.
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t, false)
	r := f.do("amy", "GET", "/api/v1/openapi.json", "")
	if r.status != 200 || string(r.body) != string(OpenAPI()) || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

// resolve follows a local $ref ("#/components/schemas/X"), nil if absent.
func resolve(doc map[string]any, ref string) map[string]any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

// operation returns the description of route ("METHOD /pattern"): its
// path item and its operation, nil when it is not described.
func operation(doc map[string]any, route string) (item, op map[string]any) {
	method, path, _ := strings.Cut(route, " ")
	item, _ = doc["paths"].(map[string]any)[path].(map[string]any)
	op, _ = item[strings.ToLower(method)].(map[string]any)
	return item, op
}

// responseSchema returns the JSON schema the description gives for a
// route's answer with status, or nil when it declares a non-JSON body.
func responseSchema(t *testing.T, doc map[string]any, route string, status int) map[string]any {
	t.Helper()
	_, opm := operation(doc, route)
	if opm == nil {
		t.Fatalf("%s is not described", route)
	}
	resp, _ := opm["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if resp == nil {
		t.Errorf("%s: status %d is not described", route, status)
		return nil
	}
	if ref, ok := resp["$ref"].(string); ok {
		resp = resolve(doc, ref)
	}
	content, _ := resp["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	if media == nil {
		return nil
	}
	return media["schema"].(map[string]any)
}

// validate checks v against the subset of JSON Schema the description
// uses: $ref, oneOf, type (one or a list), enum, required, properties,
// additionalProperties and items. A response property the schema does not
// list is an error, so that new fields get described.
func validate(doc map[string]any, schema map[string]any, v any, at string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		schema = resolve(doc, ref)
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		for _, alt := range alts {
			if len(validate(doc, alt.(map[string]any), v, at)) == 0 {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %v matches no oneOf alternative", at, v)}
	}
	if types := typesOf(schema); len(types) > 0 && !slices.Contains(types, jsonTypeOf(v)) &&
		!(jsonTypeOf(v) == "integer" && slices.Contains(types, "number")) {
		return []string{fmt.Sprintf("%s: %s, want %v", at, jsonTypeOf(v), types)}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		return []string{fmt.Sprintf("%s: %v not in %v", at, v, enum)}
	}
	var errs []string
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required %q missing", at, r))
			}
		}
		extra, _ := schema["additionalProperties"].(map[string]any)
		for k, x := range v {
			switch p, ok := props[k].(map[string]any); {
			case ok:
				errs = append(errs, validate(doc, p, x, at+"."+k)...)
			case extra != nil:
				errs = append(errs, validate(doc, extra, x, at+"."+k)...)
			case props != nil:
				errs = append(errs, fmt.Sprintf("%s: %q is not described", at, k))
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, validate(doc, items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func typesOf(schema map[string]any) []string {
	switch t := schema["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func jsonTypeOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// TestValidatorCatchesDrift: the validator used on real responses fails
// on a missing required field, a wrong type and an undescribed field.
func TestValidatorCatchesDrift(t *testing.T) {
	doc := openAPIDoc(t)
	schema := map[string]any{"$ref": "#/components/schemas/CustomerList"}
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"customers": [], "next_cursor": null}`, true},
		{`{"customers": [{"id": 1, "name": "A", "auto_created": false, "domains": [], "emails": [], "created_at": "2026-01-01T00:00:00Z"}], "next_cursor": "1"}`, true},
		{`{"customers": []}`, false},
		{`{"customers": [{"id": "1", "name": "A", "auto_created": false, "domains": [], "emails": [], "created_at": "x"}], "next_cursor": null}`, false},
		{`{"customers": [], "next_cursor": null, "total": 3}`, false},
		{`{"customers": null, "next_cursor": null}`, false},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
			t.Fatal(err)
		}
		if errs := validate(doc, schema, v, "$"); (len(errs) == 0) != tc.ok {
			t.Errorf("%s: errors %v, want ok=%v", tc.body, errs, tc.ok)
		}
	}
}

// checkRequest holds a request the tests send to the description: each
// query parameter is declared for the route, with a value of its schema,
// and a JSON body matches the route's requestBody. So a client written
// from api/openapi.json sends what the handlers read.
func checkRequest(t *testing.T, doc map[string]any, route, path, body string) {
	t.Helper()
	item, op := operation(doc, route)
	if op == nil {
		t.Errorf("%s is not described", route)
		return
	}
	params := parameters(doc, item, op, "query")
	if _, query, ok := strings.Cut(path, "?"); ok {
		for _, kv := range strings.Split(query, "&") {
			name, value, _ := strings.Cut(kv, "=")
			pm, declared := params[name]
			schema, _ := pm["schema"].(map[string]any)
			if !declared {
				t.Errorf("%s: query parameter %q is not declared for %s", path, name, route)
				continue
			}
			var v any = value
			if types := typesOf(resolveSchema(doc, schema)); slices.Contains(types, "integer") {
				n, err := strconv.ParseInt(value, 10, 64)
				if err != nil {
					t.Errorf("%s: %s=%q is not an integer", path, name, value)
					continue
				}
				v = float64(n)
			}
			for _, e := range validate(doc, schema, v, name) {
				t.Errorf("%s: query does not match api/openapi.json: %s", path, e)
			}
		}
	}
	if body == "" {
		return
	}
	rb, _ := op["requestBody"].(map[string]any)
	media, _ := rb["content"].(map[string]any)["application/json"].(map[string]any)
	if media == nil {
		t.Errorf("%s: sends a JSON body, but api/openapi.json describes none", route)
		return
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Errorf("%s: body %s: %v", route, body, err)
		return
	}
	for _, e := range validate(doc, media["schema"].(map[string]any), v, "$") {
		t.Errorf("%s: request body does not match api/openapi.json: %s", route, e)
	}
}

// parameters returns, by name, the parameters of an operation that are
// in ("query", "path"): those of its path item and its own, $refs
// resolved.
func parameters(doc, item, op map[string]any, in string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range append(asList(item["parameters"]), asList(op["parameters"])...) {
		pm := resolveSchema(doc, p.(map[string]any))
		if pm["in"] == in {
			out[pm["name"].(string)] = pm
		}
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func resolveSchema(doc, schema map[string]any) map[string]any {
	if ref, ok := schema["$ref"].(string); ok {
		return resolve(doc, ref)
	}
	return schema
}
