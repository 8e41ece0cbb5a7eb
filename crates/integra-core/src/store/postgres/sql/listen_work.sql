-- Listens for announcements of new work on the schema's channel; {channel} is its name,
-- quoted, written in by the listener (a channel cannot be a parameter).
LISTEN {channel}
