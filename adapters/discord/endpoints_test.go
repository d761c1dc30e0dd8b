package discord

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// discordgoEndpoints lists every exported Endpoint* variable of discordgo by
// address, so the test reads the value current after SetAPIBase.
// TestEndpointTableIsComplete keeps this list in step with discordgo.
func discordgoEndpoints() map[string]any {
	return map[string]any{
		"EndpointStatus":                              &discordgo.EndpointStatus,
		"EndpointSm":                                  &discordgo.EndpointSm,
		"EndpointSmActive":                            &discordgo.EndpointSmActive,
		"EndpointSmUpcoming":                          &discordgo.EndpointSmUpcoming,
		"EndpointDiscord":                             &discordgo.EndpointDiscord,
		"EndpointAPI":                                 &discordgo.EndpointAPI,
		"EndpointGuilds":                              &discordgo.EndpointGuilds,
		"EndpointChannels":                            &discordgo.EndpointChannels,
		"EndpointUsers":                               &discordgo.EndpointUsers,
		"EndpointGateway":                             &discordgo.EndpointGateway,
		"EndpointGatewayBot":                          &discordgo.EndpointGatewayBot,
		"EndpointWebhooks":                            &discordgo.EndpointWebhooks,
		"EndpointStickers":                            &discordgo.EndpointStickers,
		"EndpointStageInstances":                      &discordgo.EndpointStageInstances,
		"EndpointSKUs":                                &discordgo.EndpointSKUs,
		"EndpointCDN":                                 &discordgo.EndpointCDN,
		"EndpointCDNAttachments":                      &discordgo.EndpointCDNAttachments,
		"EndpointCDNAvatars":                          &discordgo.EndpointCDNAvatars,
		"EndpointCDNIcons":                            &discordgo.EndpointCDNIcons,
		"EndpointCDNSplashes":                         &discordgo.EndpointCDNSplashes,
		"EndpointCDNChannelIcons":                     &discordgo.EndpointCDNChannelIcons,
		"EndpointCDNBanners":                          &discordgo.EndpointCDNBanners,
		"EndpointCDNGuilds":                           &discordgo.EndpointCDNGuilds,
		"EndpointCDNRoleIcons":                        &discordgo.EndpointCDNRoleIcons,
		"EndpointVoice":                               &discordgo.EndpointVoice,
		"EndpointVoiceRegions":                        &discordgo.EndpointVoiceRegions,
		"EndpointUser":                                &discordgo.EndpointUser,
		"EndpointUserAvatar":                          &discordgo.EndpointUserAvatar,
		"EndpointUserAvatarAnimated":                  &discordgo.EndpointUserAvatarAnimated,
		"EndpointDefaultUserAvatar":                   &discordgo.EndpointDefaultUserAvatar,
		"EndpointUserBanner":                          &discordgo.EndpointUserBanner,
		"EndpointUserBannerAnimated":                  &discordgo.EndpointUserBannerAnimated,
		"EndpointUserGuilds":                          &discordgo.EndpointUserGuilds,
		"EndpointUserGuild":                           &discordgo.EndpointUserGuild,
		"EndpointUserGuildMember":                     &discordgo.EndpointUserGuildMember,
		"EndpointUserChannels":                        &discordgo.EndpointUserChannels,
		"EndpointUserApplicationRoleConnection":       &discordgo.EndpointUserApplicationRoleConnection,
		"EndpointUserConnections":                     &discordgo.EndpointUserConnections,
		"EndpointGuild":                               &discordgo.EndpointGuild,
		"EndpointGuildAutoModeration":                 &discordgo.EndpointGuildAutoModeration,
		"EndpointGuildAutoModerationRules":            &discordgo.EndpointGuildAutoModerationRules,
		"EndpointGuildAutoModerationRule":             &discordgo.EndpointGuildAutoModerationRule,
		"EndpointGuildThreads":                        &discordgo.EndpointGuildThreads,
		"EndpointGuildActiveThreads":                  &discordgo.EndpointGuildActiveThreads,
		"EndpointGuildPreview":                        &discordgo.EndpointGuildPreview,
		"EndpointGuildChannels":                       &discordgo.EndpointGuildChannels,
		"EndpointGuildMembers":                        &discordgo.EndpointGuildMembers,
		"EndpointGuildMembersSearch":                  &discordgo.EndpointGuildMembersSearch,
		"EndpointGuildMember":                         &discordgo.EndpointGuildMember,
		"EndpointGuildMemberRole":                     &discordgo.EndpointGuildMemberRole,
		"EndpointGuildBans":                           &discordgo.EndpointGuildBans,
		"EndpointGuildBan":                            &discordgo.EndpointGuildBan,
		"EndpointGuildIntegrations":                   &discordgo.EndpointGuildIntegrations,
		"EndpointGuildIntegration":                    &discordgo.EndpointGuildIntegration,
		"EndpointGuildRoles":                          &discordgo.EndpointGuildRoles,
		"EndpointGuildRole":                           &discordgo.EndpointGuildRole,
		"EndpointGuildInvites":                        &discordgo.EndpointGuildInvites,
		"EndpointGuildWidget":                         &discordgo.EndpointGuildWidget,
		"EndpointGuildEmbed":                          &discordgo.EndpointGuildEmbed,
		"EndpointGuildPrune":                          &discordgo.EndpointGuildPrune,
		"EndpointGuildIcon":                           &discordgo.EndpointGuildIcon,
		"EndpointGuildIconAnimated":                   &discordgo.EndpointGuildIconAnimated,
		"EndpointGuildSplash":                         &discordgo.EndpointGuildSplash,
		"EndpointGuildWebhooks":                       &discordgo.EndpointGuildWebhooks,
		"EndpointGuildAuditLogs":                      &discordgo.EndpointGuildAuditLogs,
		"EndpointGuildEmojis":                         &discordgo.EndpointGuildEmojis,
		"EndpointGuildEmoji":                          &discordgo.EndpointGuildEmoji,
		"EndpointGuildBanner":                         &discordgo.EndpointGuildBanner,
		"EndpointGuildBannerAnimated":                 &discordgo.EndpointGuildBannerAnimated,
		"EndpointGuildStickers":                       &discordgo.EndpointGuildStickers,
		"EndpointGuildSticker":                        &discordgo.EndpointGuildSticker,
		"EndpointStageInstance":                       &discordgo.EndpointStageInstance,
		"EndpointGuildScheduledEvents":                &discordgo.EndpointGuildScheduledEvents,
		"EndpointGuildScheduledEvent":                 &discordgo.EndpointGuildScheduledEvent,
		"EndpointGuildScheduledEventUsers":            &discordgo.EndpointGuildScheduledEventUsers,
		"EndpointGuildOnboarding":                     &discordgo.EndpointGuildOnboarding,
		"EndpointGuildTemplate":                       &discordgo.EndpointGuildTemplate,
		"EndpointGuildTemplates":                      &discordgo.EndpointGuildTemplates,
		"EndpointGuildTemplateSync":                   &discordgo.EndpointGuildTemplateSync,
		"EndpointGuildMemberAvatar":                   &discordgo.EndpointGuildMemberAvatar,
		"EndpointGuildMemberAvatarAnimated":           &discordgo.EndpointGuildMemberAvatarAnimated,
		"EndpointGuildMemberBanner":                   &discordgo.EndpointGuildMemberBanner,
		"EndpointGuildMemberBannerAnimated":           &discordgo.EndpointGuildMemberBannerAnimated,
		"EndpointRoleIcon":                            &discordgo.EndpointRoleIcon,
		"EndpointChannel":                             &discordgo.EndpointChannel,
		"EndpointChannelThreads":                      &discordgo.EndpointChannelThreads,
		"EndpointChannelActiveThreads":                &discordgo.EndpointChannelActiveThreads,
		"EndpointChannelPublicArchivedThreads":        &discordgo.EndpointChannelPublicArchivedThreads,
		"EndpointChannelPrivateArchivedThreads":       &discordgo.EndpointChannelPrivateArchivedThreads,
		"EndpointChannelJoinedPrivateArchivedThreads": &discordgo.EndpointChannelJoinedPrivateArchivedThreads,
		"EndpointChannelPermissions":                  &discordgo.EndpointChannelPermissions,
		"EndpointChannelPermission":                   &discordgo.EndpointChannelPermission,
		"EndpointChannelInvites":                      &discordgo.EndpointChannelInvites,
		"EndpointChannelTyping":                       &discordgo.EndpointChannelTyping,
		"EndpointChannelMessages":                     &discordgo.EndpointChannelMessages,
		"EndpointChannelMessage":                      &discordgo.EndpointChannelMessage,
		"EndpointChannelMessageThread":                &discordgo.EndpointChannelMessageThread,
		"EndpointChannelMessagesBulkDelete":           &discordgo.EndpointChannelMessagesBulkDelete,
		"EndpointChannelMessagesPins":                 &discordgo.EndpointChannelMessagesPins,
		"EndpointChannelMessagePin":                   &discordgo.EndpointChannelMessagePin,
		"EndpointChannelMessageCrosspost":             &discordgo.EndpointChannelMessageCrosspost,
		"EndpointChannelFollow":                       &discordgo.EndpointChannelFollow,
		"EndpointThreadMembers":                       &discordgo.EndpointThreadMembers,
		"EndpointThreadMember":                        &discordgo.EndpointThreadMember,
		"EndpointGroupIcon":                           &discordgo.EndpointGroupIcon,
		"EndpointSticker":                             &discordgo.EndpointSticker,
		"EndpointNitroStickersPacks":                  &discordgo.EndpointNitroStickersPacks,
		"EndpointChannelWebhooks":                     &discordgo.EndpointChannelWebhooks,
		"EndpointWebhook":                             &discordgo.EndpointWebhook,
		"EndpointWebhookToken":                        &discordgo.EndpointWebhookToken,
		"EndpointWebhookMessage":                      &discordgo.EndpointWebhookMessage,
		"EndpointMessageReactionsAll":                 &discordgo.EndpointMessageReactionsAll,
		"EndpointMessageReactions":                    &discordgo.EndpointMessageReactions,
		"EndpointMessageReaction":                     &discordgo.EndpointMessageReaction,
		"EndpointPoll":                                &discordgo.EndpointPoll,
		"EndpointPollAnswerVoters":                    &discordgo.EndpointPollAnswerVoters,
		"EndpointPollExpire":                          &discordgo.EndpointPollExpire,
		"EndpointApplicationSKUs":                     &discordgo.EndpointApplicationSKUs,
		"EndpointEntitlements":                        &discordgo.EndpointEntitlements,
		"EndpointEntitlement":                         &discordgo.EndpointEntitlement,
		"EndpointEntitlementConsume":                  &discordgo.EndpointEntitlementConsume,
		"EndpointSubscriptions":                       &discordgo.EndpointSubscriptions,
		"EndpointSubscription":                        &discordgo.EndpointSubscription,
		"EndpointApplicationGlobalCommands":           &discordgo.EndpointApplicationGlobalCommands,
		"EndpointApplicationGlobalCommand":            &discordgo.EndpointApplicationGlobalCommand,
		"EndpointApplicationGuildCommands":            &discordgo.EndpointApplicationGuildCommands,
		"EndpointApplicationGuildCommand":             &discordgo.EndpointApplicationGuildCommand,
		"EndpointApplicationCommandPermissions":       &discordgo.EndpointApplicationCommandPermissions,
		"EndpointApplicationCommandsGuildPermissions": &discordgo.EndpointApplicationCommandsGuildPermissions,
		"EndpointInteraction":                         &discordgo.EndpointInteraction,
		"EndpointInteractionResponse":                 &discordgo.EndpointInteractionResponse,
		"EndpointInteractionResponseActions":          &discordgo.EndpointInteractionResponseActions,
		"EndpointFollowupMessage":                     &discordgo.EndpointFollowupMessage,
		"EndpointFollowupMessageActions":              &discordgo.EndpointFollowupMessageActions,
		"EndpointGuildCreate":                         &discordgo.EndpointGuildCreate,
		"EndpointInvite":                              &discordgo.EndpointInvite,
		"EndpointEmoji":                               &discordgo.EndpointEmoji,
		"EndpointEmojiAnimated":                       &discordgo.EndpointEmojiAnimated,
		"EndpointApplications":                        &discordgo.EndpointApplications,
		"EndpointApplication":                         &discordgo.EndpointApplication,
		"EndpointApplicationRoleConnectionMetadata":   &discordgo.EndpointApplicationRoleConnectionMetadata,
		"EndpointApplicationEmojis":                   &discordgo.EndpointApplicationEmojis,
		"EndpointApplicationEmoji":                    &discordgo.EndpointApplicationEmoji,
		"EndpointOAuth2":                              &discordgo.EndpointOAuth2,
		"EndpointOAuth2Applications":                  &discordgo.EndpointOAuth2Applications,
		"EndpointOAuth2Application":                   &discordgo.EndpointOAuth2Application,
		"EndpointOAuth2ApplicationsBot":               &discordgo.EndpointOAuth2ApplicationsBot,
		"EndpointOAuth2ApplicationAssets":             &discordgo.EndpointOAuth2ApplicationAssets,
		"EndpointOauth2":                              &discordgo.EndpointOauth2,
		"EndpointOauth2Applications":                  &discordgo.EndpointOauth2Applications,
		"EndpointOauth2Application":                   &discordgo.EndpointOauth2Application,
		"EndpointOauth2ApplicationsBot":               &discordgo.EndpointOauth2ApplicationsBot,
		"EndpointOauth2ApplicationAssets":             &discordgo.EndpointOauth2ApplicationAssets,
	}
}

// endpointValue returns the URL an Endpoint* variable yields: the string
// itself, or the function called with placeholder IDs.
func endpointValue(t *testing.T, name string, ptr any) string {
	t.Helper()
	v := reflect.ValueOf(ptr).Elem()
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Func:
		args := make([]reflect.Value, v.Type().NumIn())
		for i := range args {
			switch in := v.Type().In(i); in.Kind() {
			case reflect.String:
				args[i] = reflect.ValueOf("123")
			case reflect.Int:
				args[i] = reflect.ValueOf(1)
			default:
				t.Fatalf("%s: unexpected parameter type %s", name, in)
			}
		}
		out := v.Call(args)
		if len(out) != 1 || out[0].Kind() != reflect.String {
			t.Fatalf("%s: want a func returning one string, got %s", name, v.Type())
		}
		return out[0].String()
	default:
		t.Fatalf("%s: unexpected kind %s", name, v.Kind())
		return ""
	}
}

func TestSetAPIBaseRewritesEveryEndpoint(t *testing.T) {
	const base = "http://127.0.0.1:9/proxy/"
	t.Cleanup(func() {
		if err := SetAPIBase(DefaultAPIBase); err != nil {
			t.Error(err)
		}
	})
	if err := SetAPIBase(strings.TrimSuffix(base, "/")); err != nil { // the slash is added
		t.Fatal(err)
	}
	for name, ptr := range discordgoEndpoints() {
		got := endpointValue(t, name, ptr)
		if !strings.HasPrefix(got, base) {
			t.Errorf("%s = %q, want prefix %q", name, got, base)
		}
		if strings.Contains(got, "discord.com") || strings.Contains(got, "discordapp") {
			t.Errorf("%s = %q still names a Discord host", name, got)
		}
	}
	if want := base + "api/v9/applications/1/commands"; discordgo.EndpointApplicationGlobalCommands("1") != want {
		t.Errorf("global commands = %q, want %q", discordgo.EndpointApplicationGlobalCommands("1"), want)
	}
	if want := base + "api/v9/webhooks/1/tok/messages/@original"; discordgo.EndpointInteractionResponseActions("1", "tok") != want {
		t.Errorf("@original = %q, want %q", discordgo.EndpointInteractionResponseActions("1", "tok"), want)
	}
}

func TestSetAPIBaseDefaultMatchesDiscordgo(t *testing.T) {
	// Recomputing from the default base must give discordgo's own REST URLs.
	want := map[string]string{}
	for name, ptr := range discordgoEndpoints() {
		v := endpointValue(t, name, ptr)
		if strings.HasPrefix(v, DefaultAPIBase) {
			want[name] = v
		}
	}
	if len(want) < 100 {
		t.Fatalf("only %d endpoints under %s before the test; another test left them changed?", len(want), DefaultAPIBase)
	}
	if err := SetAPIBase(DefaultAPIBase); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		if got := endpointValue(t, name, discordgoEndpoints()[name]); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
}

func TestSetAPIBaseRejectsBadURLs(t *testing.T) {
	for _, bad := range []string{"", "discord.com", "ftp://x/", "http://", "::"} {
		if err := SetAPIBase(bad); err == nil {
			t.Errorf("SetAPIBase(%q) = nil, want an error", bad)
		}
	}
	for _, bad := range []string{"http://127.0.0.1/gw", "ws://", "ws://h/?v=9"} {
		if err := checkGatewayURL(bad); err == nil {
			t.Errorf("checkGatewayURL(%q) = nil, want an error", bad)
		}
	}
	if err := checkGatewayURL("wss://gateway.example/"); err != nil {
		t.Error(err)
	}
}

// TestEndpointTableIsComplete parses discordgo's source (found through the
// file of one of its endpoint closures) and checks that the table above names
// every exported Endpoint* package variable, so a discordgo upgrade that adds
// one fails here instead of leaking a call to discord.com.
func TestEndpointTableIsComplete(t *testing.T) {
	pc := reflect.ValueOf(discordgo.EndpointUser).Pointer()
	file, _ := runtime.FuncForPC(pc).FileLine(pc)
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("discordgo source not readable (built with -trimpath?): %v", err)
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	table := discordgoEndpoints()
	var missing []string
	found := 0
	for _, f := range pkgs["discordgo"].Files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if !strings.HasPrefix(n.Name, "Endpoint") {
						continue
					}
					found++
					if _, ok := table[n.Name]; !ok {
						missing = append(missing, n.Name)
					}
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("discordgo has endpoints the table lacks (add them and check SetAPIBase): %v", missing)
	}
	if found != len(table) {
		t.Errorf("discordgo declares %d Endpoint* variables, the table has %d", found, len(table))
	}
}
