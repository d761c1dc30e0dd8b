package telegramtest

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
	}
	return m
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
		m["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": end}}
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
