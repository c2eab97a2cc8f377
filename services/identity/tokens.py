"""Access-token (JWT) validation against the issuer's JWKS, as HelseID's guidance for APIs
asks: exact issuer, our audience, exp/nbf/iat with small leeway, ``typ`` ``at+jwt`` (or
``JWT``), asymmetric algorithms only, ``kid`` from the JWKS (one refresh on an unknown
kid), required scope.

Signatures and key handling are joserfc's; this module decides which tokens to trust.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from joserfc import jws
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from services.identity.errors import Unauthenticated
from services.identity.principal import ROLE_SCOPES

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "JwksSource",
    "RemoteJwks",
    "StaticJwks",
    "TokenValidator",
    "Unauthenticated",
    "ValidatedToken",
]

# Asymmetric signature algorithms only: "none" and HMAC (HS*) never, whatever the key set
# holds, so a token "signed" with the issuer's public key as an HMAC secret cannot pass.
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# RFC 9068 says "at+jwt"; media types compare case-insensitively and may carry the
# "application/" prefix (RFC 7515, 4.1.9). HelseID's guidance also admits plain "JWT".
ACCESS_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt", "jwt", "application/jwt"})
MAX_TOKEN_BYTES: Final = 16_384

AsymmetricKey = RSAKey | ECKey | OKPKey


class _Registry(jws.JWSRegistry):
    # joserfc's default 512-byte header cap is too small for a DPoP proof carrying an RSA
    # public key in its "jwk" header.
    max_header_length = 4096


def extract_jws(value: str, what: str) -> jws.CompactSignature:
    """Parse a compact JWS without verifying it; ``Unauthenticated`` if malformed."""
    if not value or len(value) > MAX_TOKEN_BYTES or not value.isascii():
        raise Unauthenticated(f"malformed {what}")
    try:
        obj = jws.extract_compact(value.encode("ascii"), registry=_Registry())
    except (JoseError, ValueError, TypeError) as err:
        raise Unauthenticated(f"malformed {what}") from err
    header = obj.headers()
    # No extensions are understood: "crit" (and RFC 7797's unencoded payload) are refused.
    if not isinstance(header, dict) or "crit" in header or "b64" in header:
        raise Unauthenticated(f"malformed {what}")
    return obj


def check_algorithm(header: Mapping[str, Any], allowed: Collection[str]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise Unauthenticated("algorithm not allowed")
    return alg


def verify_jws(obj: jws.CompactSignature, key: AsymmetricKey, alg: str) -> None:
    """Check the signature with exactly ``alg`` and ``key``; ``Unauthenticated`` if bad."""
    key_alg = key.get("alg")
    if key_alg is not None and key_alg != alg:
        raise Unauthenticated("algorithm does not match key")
    registry = _Registry(algorithms=[alg], strict_check_header=False)
    try:
        valid = jws.validate_compact(obj, key, algorithms=[alg], registry=registry)
    except (JoseError, ValueError, TypeError) as err:
        raise Unauthenticated("invalid signature") from err
    if not valid:
        raise Unauthenticated("invalid signature")


def json_payload(obj: jws.CompactSignature, what: str) -> dict[str, Any]:
    try:
        claims = json.loads(obj.payload)
    except (TypeError, ValueError) as err:
        raise Unauthenticated(f"malformed {what}") from err
    if not isinstance(claims, dict):
        raise Unauthenticated(f"malformed {what}")
    return claims


def is_numeric_date(value: object) -> bool:
    return not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    )


# --- Key sources -------------------------------------------------------------------------


class JwksSource(Protocol):
    """Where the issuer's public keys come from."""

    def key_set(self, now: float) -> KeySet: ...

    def refresh(self, now: float) -> bool:
        """Fetch the keys again if allowed now; True if a fresh set was loaded."""
        ...


def _public_key_set(data: Mapping[str, Any]) -> KeySet:
    keys = data.get("keys")
    if not isinstance(keys, list):
        raise ValueError("not a JWKS: no 'keys' list")
    usable = [k for k in keys if isinstance(k, dict) and k.get("kty") in ("RSA", "EC", "OKP")]
    key_set = KeySet.import_key_set({"keys": usable})
    if any(key.is_private for key in key_set):
        raise ValueError("a JWKS for verification must hold public keys only")
    return key_set


class StaticJwks:
    """A fixed key set (tests, the development issuer). Never refreshes."""

    def __init__(self, jwks: Mapping[str, Any] | KeySet) -> None:
        self._keys = jwks if isinstance(jwks, KeySet) else _public_key_set(jwks)

    def key_set(self, now: float) -> KeySet:
        return self._keys

    def refresh(self, now: float) -> bool:
        return False


def _fetch_url(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read(1_048_577)
    if len(body) > 1_048_576:
        raise ValueError("JWKS document too large")
    return body


class RemoteJwks:
    """The issuer's ``jwks_uri``, fetched with urllib and cached: refetched when older than
    ``max_age`` seconds, and on an unknown ``kid`` at most once every
    ``min_refresh_interval`` seconds. A failed refetch keeps the previous keys. Fetching
    blocks; the first fetch may be done at startup (``key_set(time.time())``)."""

    def __init__(
        self,
        url: str,
        *,
        min_refresh_interval: float = 60.0,
        max_age: float = 3600.0,
        timeout: float = 5.0,
        fetch: Callable[[str, float], bytes] = _fetch_url,
    ) -> None:
        self.url = url
        self.min_refresh_interval = min_refresh_interval
        self.max_age = max_age
        self.timeout = timeout
        self._fetch = fetch
        self._keys: KeySet | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._lock = threading.Lock()

    def _load(self, now: float) -> bool:
        self._attempted_at = now
        try:
            keys = _public_key_set(json.loads(self._fetch(self.url, self.timeout)))
        except (OSError, ValueError, TypeError, JoseError):
            return False
        self._keys, self._fetched_at = keys, now
        return True

    def key_set(self, now: float) -> KeySet:
        with self._lock:
            stale = now - self._fetched_at >= self.max_age
            if stale and now - self._attempted_at >= self.min_refresh_interval:
                self._load(now)
            if self._keys is None:
                raise Unauthenticated("signing keys unavailable")
            return self._keys

    def refresh(self, now: float) -> bool:
        with self._lock:
            if now - self._attempted_at < self.min_refresh_interval:
                return False
            return self._load(now)


# --- Validation --------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedToken:
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    scopes: frozenset[str]
    jkt: str | None = field(default=None)  # cnf.jkt: the DPoP key it is bound to, if any


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """RFC 9068's space-separated ``scope`` string; a JSON array is accepted too (some
    IdentityServer-based issuers, HelseID among them, emit one)."""
    value = claims.get("scope")
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise Unauthenticated("malformed scope claim")


def bound_key_thumbprint(claims: Mapping[str, Any]) -> str | None:
    """``cnf.jkt`` (RFC 9449, 6.1) or None for an unbound token. Other confirmation
    methods (e.g. mTLS ``x5t#S256``) cannot be checked here, so they are refused."""
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    if not isinstance(cnf, dict):
        raise Unauthenticated("malformed cnf claim")
    jkt = cnf.get("jkt")
    if not isinstance(jkt, str) or not jkt:
        raise Unauthenticated("unsupported token binding")
    return jkt


class TokenValidator:
    """Validates access tokens from one issuer for one audience."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: JwksSource,
        leeway_seconds: int = 30,
        required_scopes: Collection[str] = ROLE_SCOPES,
        algorithms: Collection[str] = ASYMMETRIC_ALGORITHMS,
    ) -> None:
        unsafe = set(algorithms) - ASYMMETRIC_ALGORITHMS
        if unsafe:
            raise ValueError(f"not asymmetric signature algorithms: {sorted(unsafe)}")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.leeway = leeway_seconds
        self.required_scopes = frozenset(required_scopes)
        self.algorithms = frozenset(algorithms)

    def validate(self, token: str, *, now: float) -> ValidatedToken:
        """Return the validated token or raise ``Unauthenticated`` with a safe reason."""
        obj = extract_jws(token, "token")
        header = obj.headers()
        alg = check_algorithm(header, self.algorithms)
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise Unauthenticated("wrong token type")
        key = self._signing_key(header.get("kid"), now)
        verify_jws(obj, key, alg)
        claims = json_payload(obj, "token")
        self._check_claims(claims, now)
        scopes = scopes_of(claims)
        if self.required_scopes and not scopes & self.required_scopes:
            raise Unauthenticated("missing required scope")
        return ValidatedToken(
            token=token,
            header=dict(header),
            claims=claims,
            scopes=scopes,
            jkt=bound_key_thumbprint(claims),
        )

    def _signing_key(self, kid: object, now: float) -> AsymmetricKey:
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("missing key id")
        key = self._lookup(kid, now)
        if key is None and self.jwks.refresh(now):
            key = self._lookup(kid, now)
        if key is None:
            raise Unauthenticated("unknown signing key")
        return key

    def _lookup(self, kid: str, now: float) -> AsymmetricKey | None:
        for key in self.jwks.key_set(now):
            if key.kid == kid and isinstance(key, RSAKey | ECKey | OKPKey):
                if key.get("use") not in (None, "sig"):
                    continue
                return key
        return None

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        for name in ("exp", "nbf", "iat"):
            if name in claims and not is_numeric_date(claims[name]):
                raise Unauthenticated(f"invalid {name} claim")
        registry = JWTClaimsRegistry(
            now=int(now),
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as err:
            raise Unauthenticated("token expired") from err
        except MissingClaimError as err:
            raise Unauthenticated(f"missing {err.claim} claim") from err
        except InvalidClaimError as err:
            reason = {
                "iss": "wrong issuer",
                "aud": "wrong audience",
                "nbf": "token not yet valid",
                "iat": "token issued in the future",
            }.get(err.claim, f"invalid {err.claim} claim")
            raise Unauthenticated(reason) from err
