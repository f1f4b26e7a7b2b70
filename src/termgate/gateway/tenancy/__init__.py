"""Tenancy: which path parameters name a customer's data, and which customer owns each id."""
