SELECT flow, owner, lease_until, last_error, updated_at FROM source_lease ORDER BY flow
