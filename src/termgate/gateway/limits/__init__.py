"""Counters of the limit step (clauses 3.3 f-h and 4.4): plan limits as the gateway holds them,
their calendars, and the limiter backends (in-process, or Redis for a cluster)."""
