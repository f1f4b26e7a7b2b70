"""What both planes stand on: the audit chain, the change feed, secrets and passwords,
sessions, common errors, the users-served count, tenant ids and the wire contract."""
