"""The change feed: what each recipient must be sent (the outbox), where each resource lives at each recipient
(the links), and the recipients' rows themselves. Below the policy, the SCIM service and erasure, which enqueue in
the same transaction as their change, and below app/targets, which delivers (issue 15 §1, decision 0026)."""
