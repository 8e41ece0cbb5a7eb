-- Notes a recorded batch's outcomes for subscriber ?1: a success at ?2 (NULL: none), a
-- failure at ?3 with error ?4 (NULL: none), and ?5 failed attempts after the batch's last
-- success; when ?6 is 0 (none succeeded) they add to the failures in a row so far.
INSERT INTO subscriber_health (subscriber, last_success_at, last_failure_at, last_error,
                               consecutive_failures)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (subscriber) DO UPDATE SET
    last_success_at = coalesce(excluded.last_success_at, last_success_at),
    last_failure_at = coalesce(excluded.last_failure_at, last_failure_at),
    last_error = coalesce(excluded.last_error, last_error),
    consecutive_failures = CASE WHEN ?6 THEN excluded.consecutive_failures
                                ELSE consecutive_failures + excluded.consecutive_failures END
