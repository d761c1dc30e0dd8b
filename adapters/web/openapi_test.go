package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/captionbot/captionbot/bot"
)

// openAPIDoc is the parsed /v1/openapi.json.
type openAPIDoc map[string]any

func (d openAPIDoc) resolve(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	for {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		var cur any = map[string]any(d)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("bad $ref %s", ref)
			}
			cur = m[part]
		}
		if cur == nil {
			t.Fatalf("$ref %s resolves to nothing", ref)
		}
		v = cur.(map[string]any)
	}
}

// check validates a decoded JSON value against a schema (the parts of
// OpenAPI 3 this document uses: $ref, type, required, properties, items,
// enum), and reports response fields the schema does not describe.
func (d openAPIDoc) check(t *testing.T, where string, schema map[string]any, v any) {
	t.Helper()
	schema = d.resolve(t, schema)
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		t.Errorf("%s: %v is not in the enum %v", where, v, enum)
	}
	switch typ, _ := schema["type"].(string); typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: want an object, got %T", where, v)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		for _, r := range schema["required"].([]any) {
			if _, ok := m[r.(string)]; !ok {
				t.Errorf("%s: required %q missing", where, r)
			}
		}
		for k, val := range m {
			p, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s: field %q is not in the document", where, k)
				continue
			}
			d.check(t, where+"."+k, p, val)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			t.Errorf("%s: want an array, got %T", where, v)
			return
		}
		for i, e := range a {
			d.check(t, fmt.Sprintf("%s[%d]", where, i), schema["items"].(map[string]any), e)
		}
	case "string":
		if _, ok := v.(string); !ok {
			t.Errorf("%s: want a string, got %T", where, v)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			t.Errorf("%s: want an integer, got %v", where, v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			t.Errorf("%s: want a number, got %T", where, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: want a boolean, got %T", where, v)
		}
	}
}

// response checks one real response against the document's entry for its
// path, method and status.
func (d openAPIDoc) response(t *testing.T, path, method string, resp *http.Response, body []byte) {
	t.Helper()
	where := fmt.Sprintf("%s %s %d", method, path, resp.StatusCode)
	paths := d["paths"].(map[string]any)
	op, ok := paths[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		t.Fatalf("%s: not in the document", where)
	}
	r, ok := op["responses"].(map[string]any)[strconv.Itoa(resp.StatusCode)].(map[string]any)
	if !ok {
		t.Errorf("%s: status not in the document", where)
		return
	}
	r = d.resolve(t, r)
	if hs, ok := r["headers"].(map[string]any); ok {
		for h := range hs {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s: header %s missing", where, h)
			}
		}
	}
	schema := r["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v: %s", where, err, body)
	}
	d.check(t, where, schema, v)
}

// TestOpenAPIMatchesResponses sends requests for every documented status
// and checks the answers against /v1/openapi.json.
func TestOpenAPIMatchesResponses(t *testing.T) {
	svc := newService(t, nil, func(s *bot.Service) { s.UserRate = rate.Every(time.Hour); s.UserBurst = 2 })
	srv := New(svc)
	srv.MaxUpload = 1 << 10
	ready := true
	srv.Ready = func() []string {
		if ready {
			return nil
		}
		return []string{"store: lost"}
	}
	ts := newTestServer(t, srv)
	resp, b := do(t, mustGet(t, ts.URL+"/v1/openapi.json"))
	var doc openAPIDoc
	if resp.StatusCode != 200 || json.Unmarshal(b, &doc) != nil || doc["openapi"] != "3.0.3" {
		t.Fatalf("document: %d %.200s", resp.StatusCode, b)
	}
	seen := map[string]bool{}
	send := func(path, method string, req *http.Request) {
		t.Helper()
		resp, b := do(t, req)
		doc.response(t, path, method, resp, b)
		seen[fmt.Sprintf("%s %s %d", method, path, resp.StatusCode)] = true
	}
	capt := func(img []byte, fields map[string]string, ct string) *http.Request {
		var req *http.Request
		if ct == "" {
			body, ct := multipartBody(t, img, fields)
			req, _ = http.NewRequest(http.MethodPost, ts.URL+"/v1/captions", body)
			req.Header.Set("Content-Type", ct)
		} else {
			req, _ = http.NewRequest(http.MethodPost, ts.URL+"/v1/captions", bytes.NewReader(img))
			req.Header.Set("Content-Type", ct)
		}
		return req
	}
	send("/v1/captions", "POST", capt(jpeg, map[string]string{"network": "x"}, ""))
	send("/v1/captions", "POST", capt(jpeg, nil, "image/jpeg"))
	send("/v1/captions", "POST", capt(jpeg, nil, "image/jpeg")) // 429
	send("/v1/captions", "POST", capt(nil, nil, ""))
	send("/v1/captions", "POST", capt(bytes.Repeat([]byte("x"), 4<<10), nil, "image/png"))
	send("/v1/captions", "POST", capt(jpeg, nil, "text/plain"))
	send("/v1/networks", "GET", mustGet(t, ts.URL+"/v1/networks"))
	send("/healthz", "GET", mustGet(t, ts.URL+"/healthz"))
	send("/readyz", "GET", mustGet(t, ts.URL+"/readyz"))
	ready = false
	send("/readyz", "GET", mustGet(t, ts.URL+"/readyz"))
	srv.APIKeys = []string{"key"}
	send("/v1/networks", "GET", mustGet(t, ts.URL+"/v1/networks"))
	srv.APIKeys = nil
	if err := svc.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	send("/v1/captions", "POST", capt(jpeg, nil, "image/jpeg")) // 503

	for _, want := range []string{"POST /v1/captions 200", "POST /v1/captions 400", "POST /v1/captions 413",
		"POST /v1/captions 415", "POST /v1/captions 429", "POST /v1/captions 503", "GET /v1/networks 200",
		"GET /v1/networks 401", "GET /healthz 200", "GET /readyz 200", "GET /readyz 503"} {
		if !seen[want] {
			t.Errorf("no %s seen (saw %v)", want, seen)
		}
	}
}

// TestOpenAPIErrorCodes: every code the handlers can send is in the
// document's enum.
func TestOpenAPIErrorCodes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.resolve(t, map[string]any{"$ref": "#/components/schemas/Error"})["properties"].(map[string]any)["error"].(map[string]any)["properties"].(map[string]any)["code"].(map[string]any)["enum"].([]any)
	for _, f := range []string{"captions.go", "web.go"} {
		b, err := readSource(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range quotedCodes(b) {
			if !slices.Contains(enum, any(code)) {
				t.Errorf("%s sends code %q, which openapi.json does not list", f, code)
			}
		}
	}
}
