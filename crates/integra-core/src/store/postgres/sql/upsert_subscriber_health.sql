-- Notes a recorded batch's outcomes for subscriber $1: a success at $2 (NULL: none), a
-- failure at $3 with error $4 (NULL: none), and $5 failed attempts after the batch's last
-- success; when $6 is 0 (none succeeded) they add to the failures in a row so far.
INSERT INTO subscriber_health AS h (subscriber, last_success_at, last_failure_at, last_error,
                                    consecutive_failures)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (subscriber) DO UPDATE SET
    last_success_at = coalesce(EXCLUDED.last_success_at, h.last_success_at),
    last_failure_at = coalesce(EXCLUDED.last_failure_at, h.last_failure_at),
    last_error = coalesce(EXCLUDED.last_error, h.last_error),
    consecutive_failures = CASE WHEN $6::bigint <> 0 THEN EXCLUDED.consecutive_failures
                                ELSE h.consecutive_failures + EXCLUDED.consecutive_failures END
