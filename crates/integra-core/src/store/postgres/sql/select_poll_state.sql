-- What flow $1's poll source carries from one poll to the next: etag, last modified, cursor.
SELECT etag, last_modified, cursor FROM poll_state WHERE flow = $1
