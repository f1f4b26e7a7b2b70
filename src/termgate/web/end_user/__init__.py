"""The end user's side of the control plane: sign-in, consent and connected apps, and the OAuth
endpoints and discovery documents clients drive them through."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from termgate.web.end_user import apps, authorize, endpoints, login


def routes() -> list[BaseRoute]:
    return [
        Route("/connect/authorize", authorize.authorize, methods=["GET"]),
        Route("/connect/authorize", authorize.decide, methods=["POST"]),
        Route("/connect/token", endpoints.token, methods=["POST"]),
        Route("/connect/par", endpoints.pushed_authorization_request, methods=["POST"]),
        Route("/connect/revocation", endpoints.revocation, methods=["POST"]),
        Route("/connect/introspect", endpoints.introspection, methods=["POST"]),
        Route("/connect/login", login.login_page, methods=["GET"]),
        Route("/connect/login", login.login, methods=["POST"]),
        Route("/connect/logout", login.logout, methods=["POST"]),
        Route("/connect/apps", apps.connected_apps, methods=["GET"]),
        Route("/connect/apps/export/consents", apps.export_consents, methods=["GET"]),
        Route("/connect/apps/export/access-log", apps.export_access_log, methods=["GET"]),
        Route("/connect/apps/{consent_id}/revoke", apps.revoke, methods=["POST"]),
        Route("/.well-known/oauth-authorization-server", endpoints.metadata, methods=["GET"]),
        Route("/.well-known/openid-configuration", endpoints.metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", endpoints.jwks, methods=["GET"]),
    ]
