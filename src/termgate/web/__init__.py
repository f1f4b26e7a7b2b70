"""The control plane's web side: developer portal, provider console, admin REST API."""
