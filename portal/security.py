"""Security headers, set in one hook for every response; requests carrying NUL refused."""

from __future__ import annotations

from flask import Flask, Response, abort, request

# Everything the portal loads comes from itself; no inline script or style is needed.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # The same URL answers a fragment to htmx and a page otherwise: caches must tell them apart.
    response.vary.add("HX-Request")
    if not _is_static(request.endpoint):
        # Pages and downloads (letters, receipts, CSV, calendar files) carry personal data:
        # no shared cache may keep them, and the browser keeps no copy either.
        headers["Cache-Control"] = "private, no-store"
    return response


def refuse_nul_characters() -> None:
    """No one types U+0000 and PostgreSQL cannot store it in text: a query or form field that
    carries one is refused (400) before any view reads it, on either database alike."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def init_security(app: Flask) -> None:
    production = app.config["ENV"] == "production"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:  # not set explicitly: HTTPS-only in production
            app.config[key] = production
    if production:
        app.config.setdefault("PREFERRED_URL_SCHEME", "https")

        @app.after_request
        def strict_transport(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            return response

    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
