"""Identity: passwords now; the OAuth 2 server, end users and consents with the identity issue."""
