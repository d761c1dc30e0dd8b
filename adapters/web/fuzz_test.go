package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/captionbot/captionbot/bot/bottest"
)

// FuzzCaptionRequest sends arbitrary bodies and content types to POST
// /v1/captions: every answer is a documented status with a JSON body, and
// nothing panics.
func FuzzCaptionRequest(f *testing.F) {
	body, ct := multipartBody(f, jpeg, map[string]string{"network": "x", "hashtags": "3", "hint": "hi"})
	b := new(bytes.Buffer)
	b.ReadFrom(body)
	f.Add(b.Bytes(), ct, "network=x")
	f.Add(jpeg, "image/jpeg", "tone=fun&lang=pt-BR&variant=2")
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n\r\n--x--\r\n"), "multipart/form-data; boundary=x", "")
	f.Add([]byte{}, "multipart/form-data", "hashtags=-1")
	f.Add([]byte("x"), "image/png; charset=\"", "network=%zz")
	svc := newService(f, &bottest.Describer{}, nil)
	srv := New(svc)
	srv.MaxUpload = 1 << 10
	h := srv.Handler()
	allowed := map[int]bool{200: true, 400: true, 413: true, 415: true, 429: true, 503: true}
	f.Fuzz(func(t *testing.T, body []byte, contentType, query string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/captions", bytes.NewReader(body))
		if u, err := req.URL.Parse("/v1/captions?" + query); err == nil {
			req.URL = u
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("not JSON: %q", rec.Body)
		}
	})
}
