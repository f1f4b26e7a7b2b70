"""The developer programme: developers, applications, products, plans, subscriptions, keys."""
