"""Step 4, limit (clauses 3.3 e-h and 4.4): the plan's limits on traffic as one policy with a
hook before the request is forwarded and one after it (`step.TrafficPolicy`), the GCRA decision
written once (`gcra`), and its storage backends (in-process, or Redis for a cluster)."""
