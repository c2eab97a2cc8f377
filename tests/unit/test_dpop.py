"""DPoP sender-constrained tokens (RFC 9449) through the Authenticator."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry

from services.identity.authenticate import Authenticator, Unauthenticated
from services.identity.dev_issuer import make_dpop_proof
from services.identity.dpop import (
    InMemoryReplayCache,
    access_token_hash,
    normalise_url,
    thumbprint,
)
from services.identity.principal import CLAIM_HPR_NUMBER, CLAIM_ORGNR_PARENT
from services.identity.tokens import StaticJwks, TokenValidator

NOW = 1_800_000_000.0
ISSUER = "https://helseid-sts.test.nhn.no"
AUDIENCE = "kompetanse"
URL = "https://api.kompetanse.test/v1/organisations/974589095/doctors"
ORG = "974589095"

ISSUER_KEY = ECKey.generate_key("P-256", parameters={"kid": "issuer-1"})
JWKS = {"keys": [ISSUER_KEY.as_dict(private=False)]}
CLIENT_KEY = ECKey.generate_key("P-256")  # the client's DPoP key
OTHER_CLIENT_KEY = ECKey.generate_key("P-256")
RSA_CLIENT_KEY = RSAKey.generate_key(2048)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", SecurityWarning)
    WEAK_RSA_KEY = RSAKey.generate_key(1024)


def access_token(jkt: str | None = None, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "client-1",
        "client_id": "client-1",
        "scope": "kompetanse:integration",
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 300,
        CLAIM_ORGNR_PARENT: ORG,
        **changes,
    }
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    header = {"alg": "ES256", "kid": "issuer-1", "typ": "at+jwt"}
    return jwt.encode(header, claims, ISSUER_KEY, algorithms=["ES256"])


BOUND = access_token(thumbprint(CLIENT_KEY))
BOUND_RSA = access_token(thumbprint(RSA_CLIENT_KEY))
BOUND_WEAK = access_token(thumbprint(WEAK_RSA_KEY))
UNBOUND = access_token()
EXPIRED_BOUND = access_token(thumbprint(CLIENT_KEY), exp=int(NOW) - 100)


def raw_proof(header: dict[str, Any], claims: dict[str, Any], key: Any, alg: str) -> str:
    """A proof with any header, signed by ``key`` (which need not be the header's jwk)."""
    registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
    return jwt.encode(header, claims, key, algorithms=[alg], registry=registry, default_type=None)


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{b64(header)}.{b64(claims)}."


def proof_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "jti": "proof-1",
        "htm": "POST",
        "htu": URL,
        "iat": int(NOW),
        "ath": access_token_hash(BOUND),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def public_jwk(key: Any) -> dict[str, Any]:
    return dict(key.as_dict(private=False))


GOOD_HEADER = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(CLIENT_KEY)}


def proof(**changes: Any) -> str:
    return make_dpop_proof(
        CLIENT_KEY,
        changes.pop("method", "POST"),
        changes.pop("url", URL),
        changes.pop("token", BOUND),
        changes.pop("now", NOW),
        changes.pop("jti", "proof-1"),
    )


# (name, authorization, dpop proof, request method, request URL, expected reason or None)
CASES: list[tuple[str, str | None, str | None, str, str, str | None]] = [
    ("valid", f"DPoP {BOUND}", proof(), "POST", URL, None),
    ("scheme case-insensitive", f"dpop {BOUND}", proof(), "POST", URL, None),
    (
        "valid with RSA key",
        f"DPoP {BOUND_RSA}",
        make_dpop_proof(RSA_CLIENT_KEY, "POST", URL, BOUND_RSA, NOW, "r"),
        "POST",
        URL,
        None,
    ),
    ("request URL query ignored", f"DPoP {BOUND}", proof(), "POST", URL + "?page=2#x", None),
    (
        "host case and default port",
        f"DPoP {BOUND}",
        proof(),
        "POST",
        URL.replace("https://api.kompetanse.test", "https://API.Kompetanse.test:443"),
        None,
    ),
    ("iat at the window's edge", f"DPoP {BOUND}", proof(now=NOW - 60), "POST", URL, None),
    ("missing proof", f"DPoP {BOUND}", None, "POST", URL, "missing DPoP proof"),
    ("empty proof", f"DPoP {BOUND}", "", "POST", URL, "missing DPoP proof"),
    (
        "proof for another method",
        f"DPoP {BOUND}",
        proof(method="GET"),
        "POST",
        URL,
        "DPoP proof for another method",
    ),
    (
        "method is case-sensitive",
        f"DPoP {BOUND}",
        proof(method="post"),
        "POST",
        URL,
        "DPoP proof for another method",
    ),
    (
        "proof for another path",
        f"DPoP {BOUND}",
        proof(url=URL + "/x"),
        "POST",
        URL,
        "DPoP proof for another URL",
    ),
    (
        "proof for another host",
        f"DPoP {BOUND}",
        proof(url=URL.replace("api.", "evil.")),
        "POST",
        URL,
        "DPoP proof for another URL",
    ),
    (
        "proof for another scheme",
        f"DPoP {BOUND}",
        proof(url=URL.replace("https:", "http:")),
        "POST",
        URL,
        "DPoP proof for another URL",
    ),
    (
        "proof for another port",
        f"DPoP {BOUND}",
        proof(url=URL.replace(".test/", ".test:8443/")),
        "POST",
        URL,
        "DPoP proof for another URL",
    ),
    ("stale iat", f"DPoP {BOUND}", proof(now=NOW - 61), "POST", URL, "stale DPoP proof"),
    (
        "iat in the future",
        f"DPoP {BOUND}",
        proof(now=NOW + 61),
        "POST",
        URL,
        "DPoP proof issued in the future",
    ),
    (
        "wrong ath",
        f"DPoP {BOUND}",
        proof(token=UNBOUND),
        "POST",
        URL,
        "DPoP proof for another access token",
    ),
    (
        "ath missing",
        f"DPoP {BOUND}",
        raw_proof(GOOD_HEADER, proof_claims(ath=None), CLIENT_KEY, "ES256"),
        "POST",
        URL,
        "DPoP proof for another access token",
    ),
    (
        "wrong key: thumbprint mismatch",
        f"DPoP {BOUND}",
        make_dpop_proof(OTHER_CLIENT_KEY, "POST", URL, BOUND, NOW, "p"),
        "POST",
        URL,
        "DPoP key does not match token",
    ),
    (
        "private key in jwk header",
        f"DPoP {BOUND}",
        raw_proof(
            {**GOOD_HEADER, "jwk": CLIENT_KEY.as_dict(private=True)},
            proof_claims(),
            CLIENT_KEY,
            "ES256",
        ),
        "POST",
        URL,
        "DPoP proof key must be a public key",
    ),
    (
        "jwk header missing",
        f"DPoP {BOUND}",
        raw_proof({"typ": "dpop+jwt", "alg": "ES256"}, proof_claims(), CLIENT_KEY, "ES256"),
        "POST",
        URL,
        "DPoP proof without key",
    ),
    (
        "signed by a key other than the jwk",
        f"DPoP {BOUND}",
        raw_proof(GOOD_HEADER, proof_claims(), OTHER_CLIENT_KEY, "ES256"),
        "POST",
        URL,
        "invalid signature",
    ),
    (
        "proof typ JWT",
        f"DPoP {BOUND}",
        raw_proof({**GOOD_HEADER, "typ": "JWT"}, proof_claims(), CLIENT_KEY, "ES256"),
        "POST",
        URL,
        "wrong DPoP proof type",
    ),
    (
        "proof alg none",
        f"DPoP {BOUND}",
        unsigned({**GOOD_HEADER, "alg": "none"}, proof_claims()),
        "POST",
        URL,
        "algorithm not allowed",
    ),
    (
        "jti missing",
        f"DPoP {BOUND}",
        raw_proof(GOOD_HEADER, proof_claims(jti=None), CLIENT_KEY, "ES256"),
        "POST",
        URL,
        "DPoP proof without valid jti",
    ),
    (
        "iat missing",
        f"DPoP {BOUND}",
        raw_proof(GOOD_HEADER, proof_claims(iat=None), CLIENT_KEY, "ES256"),
        "POST",
        URL,
        "DPoP proof without valid iat",
    ),
    (
        "two proofs joined",
        f"DPoP {BOUND}",
        f"{proof()}, {proof(jti='2')}",
        "POST",
        URL,
        "malformed DPoP proof",
    ),
    ("garbage proof", f"DPoP {BOUND}", "not-a-jwt", "POST", URL, "malformed DPoP proof"),
    (
        "weak RSA proof key",
        f"DPoP {BOUND_WEAK}",
        make_dpop_proof(WEAK_RSA_KEY, "POST", URL, BOUND_WEAK, NOW, "w"),
        "POST",
        URL,
        "DPoP proof key too weak",
    ),
    (
        "bearer presentation of a DPoP-bound token",
        f"Bearer {BOUND}",
        None,
        "POST",
        URL,
        "DPoP-bound token presented as Bearer",
    ),
    (
        "bearer presentation with its proof",
        f"Bearer {BOUND}",
        proof(),
        "POST",
        URL,
        "DPoP-bound token presented as Bearer",
    ),
    (
        "DPoP scheme with an unbound token",
        f"DPoP {UNBOUND}",
        proof(token=UNBOUND),
        "POST",
        URL,
        "token is not DPoP-bound",
    ),
    ("unbound bearer token", f"Bearer {UNBOUND}", None, "POST", URL, None),
    (
        "bound token still checked: expired",
        f"DPoP {EXPIRED_BOUND}",
        proof(),
        "POST",
        URL,
        "token expired",
    ),
]


pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")


def make_authenticator(**kwargs: Any) -> Authenticator:
    tokens = TokenValidator(issuer=ISSUER, audience=AUDIENCE, jwks=StaticJwks(JWKS))
    return Authenticator(tokens, **kwargs)


@pytest.mark.parametrize(
    ("authorization", "dpop", "method", "url", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_dpop(
    authorization: str, dpop: str | None, method: str, url: str, reason: str | None
) -> None:
    authenticator = make_authenticator()
    if reason is None:
        principal = authenticator.authenticate(authorization, dpop, method, url, NOW)
        assert principal.kind == "organisation" and principal.org_number == ORG
        return
    with pytest.raises(Unauthenticated) as caught:
        authenticator.authenticate(authorization, dpop, method, url, NOW)
    assert caught.value.reason == reason


def test_reused_jti_is_refused() -> None:
    authenticator = make_authenticator()
    authenticator.authenticate(f"DPoP {BOUND}", proof(), "POST", URL, NOW)
    with pytest.raises(Unauthenticated, match="DPoP proof replayed"):
        authenticator.authenticate(f"DPoP {BOUND}", proof(), "POST", URL, NOW + 1)
    # A fresh proof with the same jti is a replay too; a new jti is fine.
    with pytest.raises(Unauthenticated, match="DPoP proof replayed"):
        authenticator.authenticate(f"DPoP {BOUND}", proof(now=NOW + 2), "POST", URL, NOW + 2)
    authenticator.authenticate(f"DPoP {BOUND}", proof(jti="proof-2"), "POST", URL, NOW + 2)


def test_refused_proof_does_not_burn_its_jti() -> None:
    authenticator = make_authenticator()
    with pytest.raises(Unauthenticated, match="another method"):
        authenticator.authenticate(f"DPoP {BOUND}", proof(method="GET"), "POST", URL, NOW)
    authenticator.authenticate(f"DPoP {BOUND}", proof(), "POST", URL, NOW)


def test_bearer_can_be_switched_off() -> None:
    authenticator = make_authenticator(accept_bearer=False)
    with pytest.raises(Unauthenticated, match="bearer tokens not accepted"):
        authenticator.authenticate(f"Bearer {UNBOUND}", None, "GET", URL, NOW)
    authenticator.authenticate(f"DPoP {BOUND}", proof(), "POST", URL, NOW)


def test_organisations_can_be_required_to_use_dpop() -> None:
    authenticator = make_authenticator(require_dpop_for_organisations=True)
    with pytest.raises(Unauthenticated, match="organisation clients must use DPoP"):
        authenticator.authenticate(f"Bearer {UNBOUND}", None, "GET", URL, NOW)
    authenticator.authenticate(f"DPoP {BOUND}", proof(), "POST", URL, NOW)
    person = access_token(
        scope="kompetanse:doctor", **{CLAIM_ORGNR_PARENT: None, CLAIM_HPR_NUMBER: "565501872"}
    )
    assert authenticator.authenticate(f"Bearer {person}", None, "GET", URL, NOW).kind == "person"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("HTTPS://A.Example/x", "https://a.example/x"),
        ("https://a.example:443/x", "https://a.example/x"),
        ("http://a.example:80/x", "http://a.example/x"),
        ("https://a.example:8443/x", "https://a.example:8443/x"),
        ("https://a.example", "https://a.example/"),
        ("https://a.example/x?q=1#f", "https://a.example/x"),
        ("https://user:pw@a.example/x", "https://a.example/x"),
        ("https://a.example/%7euser/%2f", "https://a.example/~user/%2F"),
        ("https://[::1]:8000/x", "https://[::1]:8000/x"),
        ("https://a.example/X", "https://a.example/X"),  # paths are case-sensitive
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    "url", ["/relative", "ftp://a.example/x", "https:///x", "https://a:99999/"]
)
def test_normalise_url_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(url)


def test_replay_cache_expires_and_fails_closed_when_full() -> None:
    cache = InMemoryReplayCache(max_entries=2)
    assert cache.check_and_store("a", expires_at=10, now=0)
    assert not cache.check_and_store("a", expires_at=10, now=5)
    assert cache.check_and_store("b", expires_at=20, now=5)
    with pytest.raises(Unauthenticated):
        cache.check_and_store("c", expires_at=20, now=5)
    assert cache.check_and_store("a", expires_at=30, now=10)  # "a" expired at 10
    assert len(cache) == 2


def test_thumbprint_matches_rfc_7638_example() -> None:
    # RFC 7638, section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR"
        "1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ"
        "5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08"
        "qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8aw"
        "apJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_ath_is_base64url_sha256_of_the_token() -> None:
    # RFC 9449, section 7.1 (the example access token and its "ath").
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert access_token_hash(token) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
