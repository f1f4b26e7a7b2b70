"""Governance of traffic: the maintenance calendar (clause 8), the API lifecycle (4.6) and
change announcements to the developers they affect (4.5 a)."""
