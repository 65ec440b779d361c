"""Signing in and out: OIDC (auth/oidc.py) and, in dev only, the dev sign-in page."""

from weft_web.auth.sign_in import router as sign_in_router

ROUTERS = [sign_in_router]
