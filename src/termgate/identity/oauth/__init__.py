"""The OAuth 2 authorization server (clause 3.3 a), built on Authlib's RFC implementations.

`runner.run_authorization_server` runs Authlib's synchronous server on an async session;
`authorization` checks and answers authorization requests; `pushed` handles RFC 9126;
`endpoints` revocation and introspection; `metadata` the discovery document.
"""
