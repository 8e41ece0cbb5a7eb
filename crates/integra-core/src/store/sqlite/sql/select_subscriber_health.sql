-- Every subscriber's health, by code.
SELECT subscriber, last_success_at, last_failure_at, last_error, consecutive_failures
FROM subscriber_health
ORDER BY subscriber
