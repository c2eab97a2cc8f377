"""The one entry point: request headers in, ``Principal`` out (or ``Unauthenticated``).

Schemes (RFC 6750, RFC 9449):

- ``Authorization: DPoP <token>`` with a ``DPoP`` proof header: the token must be bound
  (``cnf.jkt``) and the proof must verify for this request.
- ``Authorization: Bearer <token>``: only when ``accept_bearer``; a token bound to a DPoP
  key is always refused as Bearer (whoever holds it without the key must not use it);
  and with ``require_dpop_for_organisations`` machine clients must use DPoP, as HelseID
  requires of them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from services.identity.dpop import DpopVerifier, InMemoryReplayCache, ReplayCache, SeenProof
from services.identity.errors import Unauthenticated
from services.identity.principal import ROLE_SCOPES, Principal, principal_from_claims
from services.identity.tokens import JwksSource, RemoteJwks, StaticJwks, TokenValidator

if TYPE_CHECKING:
    from services.config import Settings

__all__ = ["Authenticator", "Unauthenticated"]

# RFC 6750 2.1 b64token / RFC 9449 7.1 token68.
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def parse_authorization(authorization: str | None) -> tuple[str, str]:
    """``(scheme, token)`` with the scheme lower-cased; ``Unauthenticated`` otherwise."""
    if authorization is None or not authorization.strip():
        raise Unauthenticated("missing token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if not token or not _TOKEN68.fullmatch(token):
        raise Unauthenticated("malformed authorization header")
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop"):
        raise Unauthenticated("unsupported authorization scheme")
    return scheme, token


class Authenticator:
    """Checks the scheme and any DPoP proof; ``tokens`` validates the token itself."""

    def __init__(
        self,
        tokens: TokenValidator,
        *,
        accept_bearer: bool = True,
        require_dpop_for_organisations: bool = False,
        replay_cache: ReplayCache | None = None,
        dpop_iat_window_seconds: float = 60.0,
    ) -> None:
        self.tokens = tokens
        self.dpop = DpopVerifier(
            replay_cache=replay_cache or InMemoryReplayCache(),
            iat_window_seconds=dpop_iat_window_seconds,
        )
        self.accept_bearer = accept_bearer
        self.require_dpop_for_organisations = require_dpop_for_organisations

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        jwks: JwksSource | None = None,
        replay_cache: ReplayCache | None = None,
        require_dpop_for_organisations: bool = False,
    ) -> Authenticator:
        """Production: ``TOKEN_ISSUER`` and ``JWKS_URL``. Neither set: the development
        issuer under the data directory (its keys are created on first use)."""
        if settings.token_issuer is None:
            if settings.jwks_url is not None:
                raise ValueError("JWKS_URL is set but TOKEN_ISSUER is not")
            from services.identity.dev_issuer import DevIssuer

            dev = DevIssuer(settings.data_path, audience=settings.token_audience)
            issuer, source = dev.issuer, jwks or StaticJwks(dev.jwks())
        else:
            if jwks is None and settings.jwks_url is None:
                raise ValueError("TOKEN_ISSUER is set but JWKS_URL is not")
            issuer = settings.token_issuer
            source = jwks or RemoteJwks(str(settings.jwks_url))
        tokens = TokenValidator(
            issuer=issuer,
            audience=settings.token_audience,
            jwks=source,
            leeway_seconds=settings.token_leeway_seconds,
            required_scopes=ROLE_SCOPES,
        )
        return cls(
            tokens,
            accept_bearer=settings.accept_bearer_tokens,
            require_dpop_for_organisations=require_dpop_for_organisations,
            replay_cache=replay_cache,
        )

    def authenticate(
        self, authorization: str | None, dpop: str | None, method: str, url: str, now: float
    ) -> Principal:
        """Who is calling. ``url`` is the URL as the client addressed it (scheme, host,
        path; any query is ignored); ``now`` is the Unix time."""
        principal, _ = self.authenticate_with_proof(authorization, dpop, method, url, now)
        return principal

    def authenticate_with_proof(
        self, authorization: str | None, dpop: str | None, method: str, url: str, now: float
    ) -> tuple[Principal, SeenProof | None]:
        """As :meth:`authenticate`, with the DPoP proof accepted (if any), for a replay check
        shared by several processes."""
        seen = None
        scheme, raw = parse_authorization(authorization)
        if scheme == "bearer" and not self.accept_bearer:
            raise Unauthenticated("bearer tokens not accepted; use DPoP")
        if scheme == "dpop" and not dpop:
            raise Unauthenticated("missing DPoP proof")
        token = self.tokens.validate(raw, now=now)
        if scheme == "bearer":
            if token.jkt is not None:
                raise Unauthenticated("DPoP-bound token presented as Bearer")
        else:
            if token.jkt is None:
                raise Unauthenticated("token is not DPoP-bound")
            assert dpop is not None
            seen = self.dpop.verify(
                dpop, method=method, url=url, access_token=raw, jkt=token.jkt, now=now
            )
        principal = principal_from_claims(token.claims, token.scopes)
        if (
            scheme == "bearer"
            and principal.kind == "organisation"
            and self.require_dpop_for_organisations
        ):
            raise Unauthenticated("organisation clients must use DPoP")
        return principal, seen
