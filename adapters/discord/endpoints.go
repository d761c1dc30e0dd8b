package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// DefaultAPIBase is where discordgo sends its REST calls when api_base is
// not configured.
const DefaultAPIBase = "https://discord.com/"

// endpointsMu serialises SetAPIBase. discordgo's endpoints are package
// variables, so one process talks to one Discord (or one proxy) at a time.
var endpointsMu sync.Mutex

// SetAPIBase points every discordgo endpoint at base, which replaces
// "https://discord.com/": REST calls go to {base}api/v9/..., the status page
// to {base}status/api/v2/ and the CDN to {base}cdn/, so with an override
// nothing is sent to Discord's own hosts. base must be an absolute http(s)
// URL; a missing trailing slash is added.
//
// discordgo computes its Endpoint* string variables when the package loads,
// so each one is recomputed here. Its Endpoint* functions read those strings
// when called, so they follow; TestSetAPIBaseRewritesEveryEndpoint checks
// every exported Endpoint* of the discordgo version in go.mod, found by
// parsing its source.
func SetAPIBase(base string) error {
	if err := checkAPIBase(base); err != nil {
		return err
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	endpointsMu.Lock()
	defer endpointsMu.Unlock()

	discordgo.EndpointDiscord = base

	discordgo.EndpointStatus = base + "status/api/v2/"
	discordgo.EndpointSm = discordgo.EndpointStatus + "scheduled-maintenances/"
	discordgo.EndpointSmActive = discordgo.EndpointSm + "active.json"
	discordgo.EndpointSmUpcoming = discordgo.EndpointSm + "upcoming.json"

	api := base + "api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointStickers = api + "stickers/"
	discordgo.EndpointStageInstances = api + "stage-instances"
	discordgo.EndpointSKUs = api + "skus"
	// discordgo writes these two with a doubled slash; kept as it has them.
	discordgo.EndpointVoice = api + "/voice/"
	discordgo.EndpointVoiceRegions = discordgo.EndpointVoice + "regions"
	discordgo.EndpointNitroStickersPacks = api + "/sticker-packs"
	discordgo.EndpointGuildCreate = api + "guilds"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointOAuth2 = api + "oauth2/"
	discordgo.EndpointOAuth2Applications = discordgo.EndpointOAuth2 + "applications"
	discordgo.EndpointOauth2 = discordgo.EndpointOAuth2
	discordgo.EndpointOauth2Applications = discordgo.EndpointOAuth2Applications

	cdn := base + "cdn/"
	discordgo.EndpointCDN = cdn
	discordgo.EndpointCDNAttachments = cdn + "attachments/"
	discordgo.EndpointCDNAvatars = cdn + "avatars/"
	discordgo.EndpointCDNIcons = cdn + "icons/"
	discordgo.EndpointCDNSplashes = cdn + "splashes/"
	discordgo.EndpointCDNChannelIcons = cdn + "channel-icons/"
	discordgo.EndpointCDNBanners = cdn + "banners/"
	discordgo.EndpointCDNGuilds = cdn + "guilds/"
	discordgo.EndpointCDNRoleIcons = cdn + "role-icons/"
	return nil
}

// checkAPIBase validates an api_base override.
func checkAPIBase(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("discord api_base %q: want an absolute http(s) URL without a query, such as %q", base, DefaultAPIBase)
	}
	return nil
}

// gatewayTransport answers discordgo's "GET /gateway" with a configured
// websocket URL, so a gateway_url override needs no round trip (discordgo
// keeps the gateway it dials in an unexported field; this is the one door
// in). Every other request goes to next.
type gatewayTransport struct {
	gatewayURL string
	next       http.RoundTripper
}

func (t *gatewayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpointsMu.Lock()
	gateway := discordgo.EndpointGateway
	endpointsMu.Unlock()
	if req.Method != http.MethodGet || req.URL.String() != gateway {
		return t.next.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	body, err := json.Marshal(struct {
		URL string `json:"url"`
	}{t.gatewayURL})
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// checkGatewayURL validates a gateway_url override. discordgo appends
// "?v=9&encoding=json" itself, so the URL must carry no query.
func checkGatewayURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("discord gateway_url %q: want a ws:// or wss:// URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("discord gateway_url %q: leave out the query (discordgo adds ?v=%s&encoding=json)", raw, discordgo.APIVersion)
	}
	return nil
}
