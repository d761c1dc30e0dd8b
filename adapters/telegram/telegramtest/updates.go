package telegramtest

import "unicode/utf16"

// Builders of update bodies for Server.Push. IDs: users are positive, groups
// negative, as on Telegram.

// User is a chat member.
func User(id int64) map[string]any {
	return map[string]any{"id": id, "is_bot": false, "first_name": "User"}
}

// PrivateChat is the private chat with user id.
func PrivateChat(id int64) map[string]any { return map[string]any{"id": id, "type": "private"} }

// GroupChat is a supergroup.
func GroupChat(id int64) map[string]any {
	return map[string]any{"id": id, "type": "supergroup", "title": "Group"}
}

// BasicGroupChat is a basic group, which Telegram may upgrade to a
// supergroup with a new ID (see MigrateToMessage and Server.Migrate).
func BasicGroupChat(id int64) map[string]any {
	return map[string]any{"id": id, "type": "group", "title": "Group"}
}

// MigrateToMessage is the service message in a basic group that became
// the supergroup newID.
func MigrateToMessage(msgID int, oldID, from, newID int64) map[string]any {
	return map[string]any{"message_id": msgID, "date": 1700000000, "chat": BasicGroupChat(oldID), "from": User(from),
		"migrate_to_chat_id": newID}
}

// MigrateFromMessage is the service message that opens the supergroup
// newID, made from the basic group oldID.
func MigrateFromMessage(msgID int, newID, from, oldID int64) map[string]any {
	return map[string]any{"message_id": msgID, "date": 1700000000, "chat": GroupChat(newID), "from": User(from),
		"migrate_from_chat_id": oldID}
}

// PhotoSizes are two sizes of one photo; fileID names the large one, which
// the adapter picks (its short side is ≥ 384).
func PhotoSizes(fileID string) []map[string]any {
	return []map[string]any{
		{"file_id": fileID + "-small", "file_unique_id": "u" + fileID + "-small", "width": 90, "height": 67, "file_size": 1000},
		{"file_id": fileID, "file_unique_id": "u" + fileID, "width": 800, "height": 600, "file_size": 50000},
	}
}

// PhotoMessage is a message with a photo and an optional caption.
func PhotoMessage(msgID int, chat map[string]any, from int64, fileID, caption string) map[string]any {
	m := map[string]any{"message_id": msgID, "date": 1700000000, "chat": chat, "from": User(from), "photo": PhotoSizes(fileID)}
	if caption != "" {
		m["caption"] = caption
		if e := MentionEntities(caption); len(e) > 0 {
			m["caption_entities"] = e
		}
	}
	return m
}

// MentionEntities marks the @username mentions in text as Telegram does:
// "@" at the start or after a character that cannot end an e-mail address's
// local part, then 5 to 32 of A-Z a-z 0-9 _. Offsets and lengths count
// UTF-16 units.
func MentionEntities(text string) []map[string]any {
	units := utf16.Encode([]rune(text))
	isName := func(u uint16) bool {
		return u >= 'a' && u <= 'z' || u >= 'A' && u <= 'Z' || u >= '0' && u <= '9' || u == '_'
	}
	var out []map[string]any
	for i, u := range units {
		if u != '@' || i > 0 && (isName(units[i-1]) || units[i-1] == '.' || units[i-1] == '-') {
			continue
		}
		end := i + 1
		for end < len(units) && isName(units[end]) {
			end++
		}
		if n := end - i - 1; n >= 5 && n <= 32 {
			out = append(out, map[string]any{"type": "mention", "offset": i, "length": end - i})
		}
	}
	return out
}

// DocumentMessage is a message with a file.
func DocumentMessage(msgID int, chat map[string]any, from int64, fileID, name, mime string, size int) map[string]any {
	return map[string]any{"message_id": msgID, "date": 1700000000, "chat": chat, "from": User(from),
		"document": map[string]any{"file_id": fileID, "file_unique_id": "u" + fileID, "file_name": name, "mime_type": mime, "file_size": size}}
}

// TextMessage is a text message, optionally a reply to another message.
func TextMessage(msgID int, chat map[string]any, from int64, text string, replyTo map[string]any) map[string]any {
	m := map[string]any{"message_id": msgID, "date": 1700000000, "chat": chat, "from": User(from), "text": text}
	if len(text) > 0 && text[0] == '/' {
		end := len(text)
		for i, r := range text {
			if r == ' ' || r == '\n' {
				end = i
				break
			}
		}
		m["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(utf16.Encode([]rune(text[:end])))}}
	}
	if e := MentionEntities(text); len(e) > 0 {
		ents, _ := m["entities"].([]map[string]any)
		m["entities"] = append(ents, e...)
	}
	if replyTo != nil {
		m["reply_to_message"] = replyTo
	}
	return m
}

// Message wraps a message as an update body.
func Message(m map[string]any) map[string]any { return map[string]any{"message": m} }

// Callback is a button press on botMsg (a message the bot sent, whose
// reply_to_message is the photo) by user from.
func Callback(id string, from int64, botMsg map[string]any, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{"id": id, "from": User(from), "message": botMsg, "chat_instance": "ci", "data": data}}
}

// BotMessage is a message the bot sent in chat, replying to photoMsg.
func BotMessage(msgID int, chat map[string]any, text string, photoMsg map[string]any) map[string]any {
	m := map[string]any{"message_id": msgID, "date": 1700000000, "chat": chat,
		"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "Caption", "username": BotUsername}, "text": text}
	if photoMsg != nil {
		m["reply_to_message"] = photoMsg
	}
	return m
}
