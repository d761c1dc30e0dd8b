package web

import (
	_ "embed"
	"net/http"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

// NetworkInfo is one network in GET /v1/networks.
type NetworkInfo struct {
	Name            string `json:"name"`
	Title           string `json:"title"`
	MaxLength       int    `json:"max_length"`
	Counting        string `json:"counting"`
	HashtagsDefault int    `json:"hashtags_default"`
	HashtagsMax     int    `json:"hashtags_max"`
	DefaultTone     string `json:"default_tone"`
}

// NetworksResponse is GET /v1/networks' answer.
type NetworksResponse struct {
	Networks  []NetworkInfo `json:"networks"`
	Tones     []string      `json:"tones"`
	Languages []string      `json:"languages"`
}

func networks(w http.ResponseWriter, r *http.Request) {
	out := NetworksResponse{Tones: bot.Tones, Languages: prompts.CommonLanguages()}
	for _, n := range prompts.Networks() {
		out.Networks = append(out.Networks, NetworkInfo{Name: n.Name, Title: n.Title, MaxLength: n.MaxLength,
			Counting: string(n.Counting), HashtagsDefault: n.HashtagsDefault, HashtagsMax: n.HashtagsMax,
			DefaultTone: n.DefaultTone})
	}
	writeJSON(w, http.StatusOK, out)
}

//go:embed openapi.json
var openAPIDocument []byte

func openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*") // a public description, for API viewers
	_, _ = w.Write(openAPIDocument)
}
