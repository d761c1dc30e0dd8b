// Package web is captionbot's HTTP adapter: the JSON API (POST
// /v1/captions, GET /v1/networks, /v1/openapi.json), the playground page
// at / (embedded, no outside requests), and the operations endpoints
// (/healthz, /readyz, and /metrics when a handler is given).
//
// Photos go through the bot's service like a chat's: a Job whose Fetch
// returns the uploaded bytes and whose Deliver hands the Result back to the
// waiting request, so rate limits, the bounded queue and the refiner are
// shared with the chat platforms. No photo is written anywhere.
package web
