package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/discord"
	"github.com/captionbot/captionbot/adapters/discord/discordtest"
	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// newFakeDiscord starts a fake Discord that outlives the serve run of the
// test, and restores discordgo's endpoints afterwards.
func newFakeDiscord(t *testing.T) *discordtest.Server {
	t.Helper()
	srv := discordtest.NewServer()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for _, r := range srv.Requests() {
			if r.Status >= 400 {
				t.Errorf("Discord refused a request: %s", r)
			}
		}
	})
	t.Cleanup(func() {
		if err := discord.SetAPIBase(discord.DefaultAPIBase); err != nil {
			t.Error(err)
		}
	})
	return srv
}

func discordSection(srv *discordtest.Server) string {
	return fmt.Sprintf("[discord]\ntoken = %q\napplication_id = %q\napi_base = %q\ngateway_url = %q\n",
		srv.Token, srv.AppID, srv.URL, srv.GatewayURL)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitDiscord(t *testing.T, srv *discordtest.Server, what string, match func(discordtest.Request) bool) discordtest.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := srv.WaitRequest(ctx, 0, match)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return r
}

func TestServeDiscordEndToEnd(t *testing.T) {
	t.Setenv(envTelegramToken, "")
	t.Setenv(envDiscordToken, "")
	dp, _ := useDescriber(t, &bottest.Describer{})
	srv := newFakeDiscord(t)
	db := filepath.Join(t.TempDir(), "captionbot.db")
	cfg := writeConfig(t, discordSection(srv)+fmt.Sprintf("[store]\npath = %q\n[bot]\nworkers = 2\n[log]\nlevel = \"warn\"\n", db))

	stop, stderr := startServe(t, dp, cfg)
	waitDiscord(t, srv, "command registration", func(r discordtest.Request) bool { return r.Method == "PUT" })

	// /network linkedin in a DM, then a photo in the DM.
	set := &discordgo.Interaction{ID: srv.NewID(), AppID: srv.AppID, Type: discordgo.InteractionApplicationCommand,
		Token: "tok-set", ChannelID: "55", User: &discordgo.User{ID: "42"},
		Data: discordgo.ApplicationCommandInteractionData{Name: "network", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "name", Type: discordgo.ApplicationCommandOptionString, Value: "linkedin"}}}}
	srv.Dispatch("INTERACTION_CREATE", set)
	waitDiscord(t, srv, "/network answer", func(r discordtest.Request) bool {
		return strings.HasSuffix(r.Path, "/tok-set/callback") && strings.Contains(string(r.Body), "LinkedIn")
	})
	att := srv.Attachment("dog.jpg", "image/jpeg", []byte("jpeg bytes"))
	srv.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: srv.NewID(), ChannelID: "55", Author: &discordgo.User{ID: "42"},
		Attachments: []*discordgo.MessageAttachment{att}})
	post := waitDiscord(t, srv, "post", func(r discordtest.Request) bool {
		return r.Method == "POST" && r.Path == "/api/v9/channels/55/messages"
	})
	body := string(post.Body)
	if !strings.Contains(strings.ToLower(body), "dog") || !strings.Contains(body, "Regenerate") {
		t.Errorf("post %s", body)
	}

	if code := stop(); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), srv.Token) {
		t.Error("token in logs")
	}
	st, err := bolt.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, _ := st.Get(context.Background(), bot.PrefKey{Platform: discord.Platform, Scope: bot.ScopeUser, ID: "42"})
	if got.Network != "linkedin" {
		t.Errorf("stored %+v, want linkedin", got)
	}
}

func TestServeTelegramAndDiscordTogether(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	api := tg.NewServer()
	defer api.Close()
	srv := newFakeDiscord(t)
	db := filepath.Join(t.TempDir(), "captionbot.db")
	cfg := serveConfig(t, api, db) // Telegram, store, bot and log sections
	t.Setenv(envDiscordToken, srv.Token)
	cfg = writeConfig(t, readFile(t, cfg)+strings.Replace(discordSection(srv), fmt.Sprintf("token = %q\n", srv.Token), "", 1))

	stop, stderr := startServe(t, dp, cfg)
	api.AddFile("p1", []byte("jpeg"))
	api.Push(tg.Message(tg.PhotoMessage(1, tg.PrivateChat(42), 42, "p1", "")))
	waitDiscord(t, srv, "command registration", func(r discordtest.Request) bool { return r.Method == "PUT" })
	srv.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: srv.NewID(), ChannelID: "55", Author: &discordgo.User{ID: "42"},
		Attachments: []*discordgo.MessageAttachment{srv.Attachment("dog.png", "image/png", []byte("png"))}})

	waitCalls(t, api, "sendMessage", 1)
	waitDiscord(t, srv, "discord post", func(r discordtest.Request) bool {
		return r.Path == "/api/v9/channels/55/messages" && strings.Contains(string(r.Body), "Regenerate")
	})
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestServeDiscordSIGTERMMidJob runs serve in a child process (see
// TestServeChildProcess, whose captioner takes a second), sends SIGTERM
// while a /caption job is in the captioner, and expects exit status 0 with
// the deferred reply edited with the post.
func TestServeDiscordSIGTERMMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	t.Setenv(envTelegramToken, "")
	t.Setenv(envDiscordToken, "")
	srv := newFakeDiscord(t)
	db := filepath.Join(t.TempDir(), "captionbot.db")
	cfg := writeConfig(t, discordSection(srv)+fmt.Sprintf("[store]\npath = %q\n[bot]\nworkers = 2\n[log]\nlevel = \"debug\"\n", db))

	var out safeBuffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChildProcess$")
	cmd.Env = append(os.Environ(), envServeChild+"="+cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	done := make(chan struct{}) // closed when the child has exited; waitErr is its status
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	waitDiscord(t, srv, "command registration", func(r discordtest.Request) bool { return r.Method == "PUT" })

	att := srv.Attachment("dog.png", "image/png", []byte("png"))
	i := &discordgo.Interaction{ID: srv.NewID(), AppID: srv.AppID, Type: discordgo.InteractionApplicationCommand,
		Token: "tok-sigterm", ChannelID: "55", User: &discordgo.User{ID: "42"},
		Data: discordgo.ApplicationCommandInteractionData{Name: "caption",
			Options: []*discordgo.ApplicationCommandInteractionDataOption{
				{Name: "image", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID}},
			Resolved: &discordgo.ApplicationCommandInteractionDataResolved{
				Attachments: map[string]*discordgo.MessageAttachment{att.ID: att}}}}
	srv.Dispatch("INTERACTION_CREATE", i)
	waitDiscord(t, srv, "download", func(r discordtest.Request) bool { return strings.HasSuffix(r.Path, "/dog.png") })
	// The job is in the captioner (for a second) now.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Fatalf("serve exited with %v; output:\n%s", waitErr, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit; output:\n%s", out.String())
	}
	var edits []discordtest.Request
	for _, r := range srv.Requests() {
		if r.Method == "PATCH" && r.Path == "/api/v9/webhooks/"+srv.AppID+"/tok-sigterm/messages/@original" {
			edits = append(edits, r)
		}
	}
	if len(edits) != 1 || !strings.Contains(string(edits[0].Body), "Regenerate") ||
		!strings.Contains(strings.ToLower(string(edits[0].Body)), "dog") {
		t.Fatalf("@original edits %v, want one with the post; output:\n%s", edits, out.String())
	}
	if strings.Contains(out.String(), srv.Token) {
		t.Error("token in logs")
	}
}

// An unreachable Bot API at start-up neither stops serve nor Discord:
// Telegram is retried in the background and serves once it is back.
func TestServeTelegramDownAtStartDoesNotStopDiscord(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	dp.connectRetry.base = 10 * time.Millisecond
	api := tg.NewServer()
	defer api.Close()
	api.Down(http.StatusBadGateway)
	srv := newFakeDiscord(t)
	db := filepath.Join(t.TempDir(), "captionbot.db")
	cfg := serveConfig(t, api, db)
	t.Setenv(envDiscordToken, srv.Token)
	cfg = writeConfig(t, readFile(t, cfg)+strings.Replace(discordSection(srv), fmt.Sprintf("token = %q\n", srv.Token), "", 1))

	stop, stderr := startServe(t, dp, cfg)
	waitCalls(t, api, "getMe", 3) // failing, and retried
	waitDiscord(t, srv, "command registration", func(r discordtest.Request) bool { return r.Method == "PUT" })
	srv.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: srv.NewID(), ChannelID: "55", Author: &discordgo.User{ID: "42"},
		Attachments: []*discordgo.MessageAttachment{srv.Attachment("dog.png", "image/png", []byte("png"))}})
	waitDiscord(t, srv, "discord post", func(r discordtest.Request) bool {
		return r.Path == "/api/v9/channels/55/messages" && strings.Contains(string(r.Body), "Regenerate")
	})

	api.Down(0)
	api.AddFile("p1", []byte("jpeg"))
	api.Push(tg.Message(tg.PhotoMessage(1, tg.PrivateChat(42), 42, "p1", "")))
	if got := waitCalls(t, api, "sendMessage", 1)[0].Params.Get("text"); !strings.Contains(strings.ToLower(got), "dog") {
		t.Errorf("telegram reply %q", got)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "platform unreachable; retrying") {
		t.Errorf("no log of the retries:\n%s", stderr.String())
	}
}
