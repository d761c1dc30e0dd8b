package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

// CaptionResponse is POST /v1/captions' answer: the fields of
// "captionbot caption --json --network", and the settings used.
type CaptionResponse struct {
	Caption    string       `json:"caption"`
	RawCaption string       `json:"raw_caption"`
	Confidence float64      `json:"confidence"`
	Objects    []bot.Object `json:"objects"`
	Labels     []bot.Label  `json:"labels"`
	Post       string       `json:"post"`
	Hashtags   []string     `json:"hashtags"`
	AltText    string       `json:"alt_text"`
	Network    string       `json:"network"`
	Tone       string       `json:"tone"`
	Language   string       `json:"language"`
	Variant    int          `json:"variant"`
	Refiner    string       `json:"refiner"`
	// Length is the post's length as the network counts it; MaxLength
	// its limit.
	Length    int  `json:"length"`
	MaxLength int  `json:"max_length"`
	Cached    bool `json:"cached"`
	// Timings in milliseconds: the models' (zero when the description
	// came from the cache) and the whole request's.
	EncoderMS  float64 `json:"encoder_ms"`
	DetectorMS float64 `json:"detector_ms"`
	DecoderMS  float64 `json:"decoder_ms"`
	MS         float64 `json:"ms"`
	ElapsedMS  float64 `json:"elapsed_ms"`
}

// ErrorBody is every error's JSON: {"error": {"code": ..., "message": ...}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client left: nothing to do
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, b)
}

// apiError is a refusal with its status and code.
type apiError struct {
	status  int
	code    string
	message string
	// retryAfter, when set, is sent as Retry-After (whole seconds).
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: msg}
}

const (
	maxHintRunes = 500
	maxVariant   = 1000
	maxFieldSize = 4 << 10
)

// captionRequest is a parsed POST /v1/captions.
type captionRequest struct {
	image    []byte
	settings bot.Settings
	hint     string
	variant  int
}

func (s *Server) captions(w http.ResponseWriter, r *http.Request) {
	req, aerr := s.parseCaption(w, r)
	if aerr != nil {
		s.refuse(w, aerr)
		return
	}
	addr := rateKey(s.clientAddr(r))
	done := make(chan bot.Result, 1)
	job := bot.Job{
		Platform: Platform,
		ChatID:   addr,
		UserID:   addr,
		PhotoKey: photoKey(req.image),
		Fetch:    func(context.Context) ([]byte, error) { return req.image, nil },
		Override: req.settings,
		Hint:     req.hint,
		Variant:  req.variant,
		Deliver: func(_ context.Context, res bot.Result) error {
			done <- res // buffered: never blocks, even when the client left
			return nil
		},
	}
	if err := s.svc.Submit(job); err != nil {
		s.answer(w, submitError(err)) // the service tells its Refused
		return
	}
	select {
	case res := <-done:
		if res.Err != nil {
			// The service counts and logs the job's outcome itself.
			s.answer(w, resultError(res.Err))
			return
		}
		writeJSON(w, http.StatusOK, response(res))
	case <-r.Context().Done():
		// The client left; the worker's Deliver still finds room.
	}
}

// refuse answers a request refused before or by Submit, and tells Refused.
func (s *Server) refuse(w http.ResponseWriter, e *apiError) {
	if s.Refused != nil {
		s.Refused(e.code)
	}
	s.answer(w, e)
}

func (s *Server) answer(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	}
	if e.status >= 500 && e.status != http.StatusServiceUnavailable {
		s.log().Error("caption request failed", "platform", Platform, "code", e.code)
	}
	writeError(w, e.status, e.code, e.message)
}

func response(res bot.Result) CaptionResponse {
	d, p := res.Description, res.Post
	out := CaptionResponse{
		Caption: d.Caption, RawCaption: d.RawCaption, Confidence: d.Confidence,
		Objects: d.Objects, Labels: d.Labels,
		Post: p.Text, Hashtags: p.Hashtags, AltText: p.AltText,
		Network: res.Settings.Network, Tone: res.Settings.Tone, Language: res.Settings.Language,
		Variant: res.Variant, Refiner: p.WrittenBy, Cached: res.Cached,
		EncoderMS: ms(d.EncoderTime), DetectorMS: ms(d.DetectorTime), DecoderMS: ms(d.DecoderTime),
		MS: ms(d.Total), ElapsedMS: ms(res.Elapsed),
	}
	if p.Network != "" {
		out.Network = p.Network
	}
	if n, err := prompts.Lookup(out.Network); err == nil {
		out.Length, out.MaxLength = n.Length(p.Text), n.MaxLength
		if out.Tone == "" {
			out.Tone = n.DefaultTone
		}
	}
	if out.Objects == nil {
		out.Objects = []bot.Object{}
	}
	if out.Labels == nil {
		out.Labels = []bot.Label{}
	}
	if out.Hashtags == nil {
		out.Hashtags = []string{}
	}
	return out
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

// parseCaption reads the photo (a multipart field "image" or a raw image/*
// body, at most MaxUpload bytes, cut off before it is decoded) and the
// options (form fields or the query).
func (s *Server) parseCaption(w http.ResponseWriter, r *http.Request) (*captionRequest, *apiError) {
	limit := s.maxUpload()
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
		message: fmt.Sprintf("That photo is over the %s limit. Please send a smaller or compressed one.", bot.HumanBytes(limit))}
	if r.ContentLength > limit+maxFieldSize*8 {
		return nil, tooLarge
	}
	body := http.MaxBytesReader(w, r.Body, limit+maxFieldSize*8)
	fields := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			fields[k] = v[0]
		}
	}
	media, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	unsupported := &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		message: "Send the photo as multipart/form-data (field \"image\") or as a raw image/* body."}
	if err != nil {
		return nil, unsupported
	}
	var img []byte
	switch {
	case strings.HasPrefix(media, "image/"):
		img, err = readLimited(body, limit)
	case media == "multipart/form-data" && params["boundary"] != "":
		img, err = readMultipart(multipart.NewReader(body, params["boundary"]), limit, fields)
	default:
		return nil, unsupported
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errTooLarge), errors.As(err, &mbe):
		return nil, tooLarge
	case errors.Is(err, errField):
		return nil, badRequest("bad_request", err.Error())
	case err != nil:
		return nil, badRequest("bad_request", "The upload could not be read; please try again.")
	case img == nil:
		return nil, badRequest("no_image", "Choose a photo: send it in the form field \"image\".")
	case len(img) == 0:
		return nil, badRequest("empty_image", bot.UserMessage(bot.ErrEmptyImage))
	}
	req := &captionRequest{image: img}
	if aerr := parseOptions(fields, req); aerr != nil {
		return nil, aerr
	}
	return req, nil
}

var (
	errTooLarge = errors.New("too large")
	errField    = errors.New("bad form field")
)

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// formFields are the options a form may carry besides "image".
var formFields = []string{"network", "tone", "lang", "hashtags", "hint", "variant"}

func readMultipart(mr *multipart.Reader, limit int64, fields map[string]string) ([]byte, error) {
	var img []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return img, nil
		}
		if err != nil {
			return nil, err
		}
		name := part.FormName()
		switch {
		case name == "image":
			if img, err = readLimited(part, limit); err != nil {
				return nil, err
			}
		case contains(formFields, name):
			b, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
			if err != nil {
				return nil, err
			}
			if len(b) > maxFieldSize {
				return nil, fmt.Errorf("%w: the field %q is too long", errField, name)
			}
			fields[name] = string(b)
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, maxFieldSize)); err != nil {
				return nil, err
			}
		}
		part.Close()
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseOptions checks network, tone, lang, hashtags, hint and variant.
func parseOptions(f map[string]string, req *captionRequest) *apiError {
	st := &req.settings
	var err error
	if v := f["network"]; v != "" {
		if st.Network, err = bot.ParseNetwork(v); err != nil {
			return badRequest("bad_network", "Unknown network; choose one of: "+strings.Join(bot.Networks, ", ")+".")
		}
	}
	if v := f["tone"]; v != "" {
		if st.Tone, err = bot.ParseTone(v); err != nil {
			return badRequest("bad_tone", "Unknown tone; choose one of: "+strings.Join(bot.Tones, ", ")+".")
		}
	}
	if v := f["lang"]; v != "" {
		if st.Language, err = bot.ParseLanguage(v); err != nil {
			return badRequest("bad_lang", "The language must be an ISO 639-1 code such as en, de or pt.")
		}
	}
	if v := f["hashtags"]; v != "" {
		n, err := bot.ParseHashtags(v)
		if err != nil {
			return badRequest("bad_hashtags", fmt.Sprintf("hashtags must be a number from 0 to %d.", bot.MaxHashtags))
		}
		st.Hashtags = &n
	}
	if v := f["variant"]; v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > maxVariant {
			return badRequest("bad_variant", fmt.Sprintf("variant must be a number from 0 to %d.", maxVariant))
		}
		req.variant = n
	}
	req.hint = strings.TrimSpace(f["hint"])
	if !utf8.ValidString(req.hint) || utf8.RuneCountInString(req.hint) > maxHintRunes {
		return badRequest("bad_hint", fmt.Sprintf("hint must be UTF-8 text of at most %d characters.", maxHintRunes))
	}
	return nil
}

// submitError turns Submit's refusal into a status: 429 with Retry-After
// for a rate limit, 503 for a full queue or a shutdown.
func submitError(err error) *apiError {
	var rl *bot.RateLimitError
	switch {
	case errors.As(err, &rl):
		return &apiError{http.StatusTooManyRequests, "rate_limited", bot.UserMessage(err), max(rl.RetryAfter, time.Second)}
	case errors.Is(err, bot.ErrRateLimited):
		return &apiError{http.StatusTooManyRequests, "rate_limited", bot.UserMessage(err), time.Minute}
	case errors.Is(err, bot.ErrBusy):
		return &apiError{http.StatusServiceUnavailable, "busy", bot.UserMessage(err), busyRetry}
	case errors.Is(err, bot.ErrStopped):
		return &apiError{http.StatusServiceUnavailable, "stopped", bot.UserMessage(err), time.Minute}
	}
	return &apiError{status: http.StatusInternalServerError, code: "internal", message: bot.UserMessage(err)}
}

// resultError turns a job's error into a status and a code.
func resultError(err error) *apiError {
	msg := bot.UserMessage(err)
	for _, m := range []struct {
		err    error
		status int
		code   string
	}{
		{bot.ErrEmptyImage, http.StatusBadRequest, "empty_image"},
		{bot.ErrNotImage, http.StatusUnsupportedMediaType, "not_image"},
		{bot.ErrUnsupportedFile, http.StatusUnsupportedMediaType, "not_image"},
		{bot.ErrCorruptImage, http.StatusBadRequest, "corrupt_image"},
		{bot.ErrImageTooSmall, http.StatusBadRequest, "image_too_small"},
		{bot.ErrImageTooLarge, http.StatusRequestEntityTooLarge, "image_too_large"},
		{bot.ErrFileTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
		{bot.ErrBusy, http.StatusServiceUnavailable, "busy"},
		{bot.ErrStopped, http.StatusServiceUnavailable, "stopped"},
		{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout"},
	} {
		if errors.Is(err, m.err) {
			e := &apiError{status: m.status, code: m.code, message: msg}
			if m.status == http.StatusServiceUnavailable {
				e.retryAfter = busyRetry
			}
			return e
		}
	}
	return &apiError{status: http.StatusInternalServerError, code: "internal", message: msg}
}

// busyRetry is the Retry-After of a 503.
const busyRetry = 5 * time.Second
