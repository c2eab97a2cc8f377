"""Access-token validation and the principal built from it (no DPoP here)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from services.identity.authenticate import Authenticator, Unauthenticated
from services.identity.dev_issuer import DevIssuer
from services.identity.dev_issuer import main as token_main
from services.identity.principal import (
    CLAIM_HPR_NUMBER,
    CLAIM_ORGNR_CHILD,
    CLAIM_ORGNR_PARENT,
    CLAIM_PID,
    Principal,
    principal_from_claims,
)
from services.identity.tokens import JwksSource, RemoteJwks, StaticJwks, TokenValidator

NOW = 1_800_000_000.0
ISSUER = "https://helseid-sts.test.nhn.no"
AUDIENCE = "kompetanse"
URL = "https://api.kompetanse.test/v1/doctors"
ORG = "974589095"

EC_KEY = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
IMPOSTOR = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})  # same kid, other key
UNLISTED = ECKey.generate_key("P-256", parameters={"kid": "ec-unlisted"})
JWKS = {"keys": [EC_KEY.as_dict(private=False), RSA_KEY.as_dict(private=False)]}


def claims(**changes: Any) -> dict[str, Any]:
    """An organisation client's claims; a change to None removes the claim."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "client-1",
        "client_id": "client-1",
        "scope": "kompetanse:integration",
        "jti": "token-1",
        "iat": int(NOW) - 10,
        "nbf": int(NOW) - 10,
        "exp": int(NOW) + 300,
        CLAIM_ORGNR_PARENT: ORG,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(
    payload: dict[str, Any] | None = None,
    *,
    key: ECKey | RSAKey = EC_KEY,
    alg: str = "ES256",
    **header: Any,
) -> str:
    head = {"alg": alg, "kid": key.kid, "typ": "at+jwt", **header}
    head = {k: v for k, v in head.items() if v is not None}
    body = claims() if payload is None else payload
    return jwt.encode(head, body, key, algorithms=[alg], default_type=None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    """A token signed by an attacker: HMAC with ``secret``, or unsigned if None."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


PUBLIC_PEM = EC_KEY.as_pem(private=False)
PUBLIC_JWK_JSON = json.dumps(EC_KEY.as_dict(private=False)).encode()


def make_authenticator(
    *, jwks: JwksSource | None = None, leeway_seconds: int = 30, **kwargs: Any
) -> Authenticator:
    tokens = TokenValidator(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=jwks or StaticJwks(JWKS),
        leeway_seconds=leeway_seconds,
    )
    return Authenticator(tokens, **kwargs)


CASES: list[tuple[str, str | None, str | None]] = [
    ("valid", f"Bearer {sign()}", None),
    ("valid RS256", f"Bearer {sign(key=RSA_KEY, alg='RS256')}", None),
    ("valid PS256", f"Bearer {sign(key=RSA_KEY, alg='PS256')}", None),
    ("scheme is case-insensitive", f"bearer {sign()}", None),
    ("typ JWT", f"Bearer {sign(typ='JWT')}", None),
    ("typ upper case", f"Bearer {sign(typ='AT+JWT')}", None),
    ("typ media type", f"Bearer {sign(typ='application/at+jwt')}", None),
    ("aud list with ours", f"Bearer {sign(claims(aud=['other', AUDIENCE]))}", None),
    ("scope as list", f"Bearer {sign(claims(scope=['openid', 'kompetanse:integration']))}", None),
    ("expired within leeway", f"Bearer {sign(claims(exp=int(NOW) - 29))}", None),
    ("nbf within leeway", f"Bearer {sign(claims(nbf=int(NOW) + 29))}", None),
    ("missing", None, "missing token"),
    ("empty", "", "missing token"),
    ("scheme only", "Bearer", "malformed authorization header"),
    ("scheme and blank", "Bearer   ", "malformed authorization header"),
    ("basic scheme", "Basic dXNlcjpwYXNz", "unsupported authorization scheme"),
    ("not a JWT", "Bearer abc", "malformed token"),
    ("bad segments", "Bearer a.b.c", "malformed token"),
    ("JWE-shaped", "Bearer a.b.c.d.e", "malformed token"),
    ("junk characters", "Bearer ey!.x.y", "malformed authorization header"),
    (
        "payload not JSON",
        f"Bearer {forge({'alg': 'ES256'}, {}, None)[:-1]}xx.yy",
        "malformed token",
    ),
    ("expired", f"Bearer {sign(claims(exp=int(NOW) - 31))}", "token expired"),
    ("not yet valid", f"Bearer {sign(claims(nbf=int(NOW) + 31))}", "token not yet valid"),
    ("issued in future", f"Bearer {sign(claims(iat=int(NOW) + 60))}", "token issued in the future"),
    ("exp missing", f"Bearer {sign(claims(exp=None))}", "missing exp claim"),
    ("iat missing", f"Bearer {sign(claims(iat=None))}", "missing iat claim"),
    ("exp not a number", f"Bearer {sign(claims(exp='soon'))}", "invalid exp claim"),
    ("exp a boolean", f"Bearer {sign(claims(exp=True))}", "invalid exp claim"),
    ("wrong audience", f"Bearer {sign(claims(aud='someone-else'))}", "wrong audience"),
    ("aud list without ours", f"Bearer {sign(claims(aud=['a', 'b']))}", "wrong audience"),
    ("aud missing", f"Bearer {sign(claims(aud=None))}", "missing aud claim"),
    ("wrong issuer", f"Bearer {sign(claims(iss='https://evil.example'))}", "wrong issuer"),
    ("issuer trailing slash", f"Bearer {sign(claims(iss=ISSUER + '/'))}", "wrong issuer"),
    ("issuer missing", f"Bearer {sign(claims(iss=None))}", "missing iss claim"),
    (
        "alg none",
        f"Bearer {forge({'alg': 'none', 'kid': 'ec-1', 'typ': 'at+jwt'}, claims(), None)}",
        "algorithm not allowed",
    ),
    (
        "HS256 with the public key PEM as secret",
        f"Bearer {forge({'alg': 'HS256', 'kid': 'ec-1', 'typ': 'at+jwt'}, claims(), PUBLIC_PEM)}",
        "algorithm not allowed",
    ),
    (
        "HS256 with the public JWK as secret",
        "Bearer "
        + forge({"alg": "HS256", "kid": "ec-1", "typ": "at+jwt"}, claims(), PUBLIC_JWK_JSON),
        "algorithm not allowed",
    ),
    (
        "alg missing",
        f"Bearer {forge({'kid': 'ec-1', 'typ': 'at+jwt'}, claims(), b'x')}",
        "malformed token",
    ),
    ("signed by another key, same kid", f"Bearer {sign(key=IMPOSTOR)}", "invalid signature"),
    ("kid not in the JWKS", f"Bearer {sign(key=UNLISTED)}", "unknown signing key"),
    ("kid missing", f"Bearer {sign(kid=None)}", "missing key id"),
    (
        "RS256 signature under the kid of an EC key",
        f"Bearer {sign(key=RSA_KEY, alg='RS256', kid='ec-1')}",
        "invalid signature",
    ),
    ("typ missing", f"Bearer {sign(typ=None)}", "wrong token type"),
    ("typ dpop+jwt", f"Bearer {sign(typ='dpop+jwt')}", "wrong token type"),
    ("typ id token", f"Bearer {sign(typ='id_token+jwt')}", "wrong token type"),
    (
        "crit header",
        "Bearer "
        + forge({"alg": "ES256", "kid": "ec-1", "typ": "at+jwt", "crit": ["x"]}, claims(), b"x"),
        "malformed token",
    ),
    ("no scope", f"Bearer {sign(claims(scope=None))}", "missing required scope"),
    (
        "other scopes only",
        f"Bearer {sign(claims(scope='openid profile'))}",
        "missing required scope",
    ),
    ("scope wrong type", f"Bearer {sign(claims(scope=42))}", "malformed scope claim"),
    (
        "two role scopes",
        f"Bearer {sign(claims(scope='kompetanse:integration kompetanse:admin'))}",
        "conflicting role scopes",
    ),
    (
        "cnf without jkt",
        f"Bearer {sign(claims(cnf={'x5t#S256': 'abc'}))}",
        "unsupported token binding",
    ),
]


@pytest.mark.parametrize(
    ("authorization", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bearer_token(authorization: str | None, reason: str | None) -> None:
    authenticator = make_authenticator()
    if reason is None:
        principal = authenticator.authenticate(authorization, None, "GET", URL, NOW)
        assert principal.kind == "organisation"
        assert principal.org_number == ORG
        return
    with pytest.raises(Unauthenticated) as caught:
        authenticator.authenticate(authorization, None, "GET", URL, NOW)
    assert caught.value.reason == reason


def test_leeway_is_configurable() -> None:
    token = sign(claims(exp=int(NOW) - 5))
    make_authenticator(leeway_seconds=10).authenticate(f"Bearer {token}", None, "GET", URL, NOW)
    with pytest.raises(Unauthenticated, match="token expired"):
        make_authenticator(leeway_seconds=0).authenticate(f"Bearer {token}", None, "GET", URL, NOW)


def test_reasons_never_echo_the_token() -> None:
    token = sign(claims(aud="x"))
    with pytest.raises(Unauthenticated) as caught:
        make_authenticator().authenticate(f"Bearer {token}", None, "GET", URL, NOW)
    assert token not in str(caught.value) and ORG not in str(caught.value)


def test_hmac_algorithms_cannot_be_configured() -> None:
    with pytest.raises(ValueError):
        TokenValidator(
            issuer=ISSUER, audience=AUDIENCE, jwks=StaticJwks(JWKS), algorithms=["HS256"]
        )


def test_jwks_with_private_keys_is_refused() -> None:
    with pytest.raises(ValueError):
        StaticJwks({"keys": [EC_KEY.as_dict(private=True)]})


# --- Key refresh on unknown kid ----------------------------------------------------------


class RotatingJwks:
    def __init__(self, after_refresh: KeySet | None) -> None:
        self.keys = StaticJwks(JWKS).key_set(NOW)
        self.after_refresh = after_refresh
        self.refreshes = 0

    def key_set(self, now: float) -> KeySet:
        return self.keys

    def refresh(self, now: float) -> bool:
        self.refreshes += 1
        if self.after_refresh is None:
            return False
        self.keys = self.after_refresh
        return True


def test_unknown_kid_refreshes_once_and_finds_rotated_key() -> None:
    rotated = KeySet([UNLISTED])
    source = RotatingJwks(rotated)
    make_authenticator(jwks=source).authenticate(
        f"Bearer {sign(key=UNLISTED)}", None, "GET", URL, NOW
    )
    assert source.refreshes == 1


def test_unknown_kid_refresh_fails() -> None:
    source = RotatingJwks(None)
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        make_authenticator(jwks=source).authenticate(
            f"Bearer {sign(key=UNLISTED)}", None, "GET", URL, NOW
        )
    assert source.refreshes == 1


def test_known_kid_does_not_refresh() -> None:
    source = RotatingJwks(None)
    make_authenticator(jwks=source).authenticate(f"Bearer {sign()}", None, "GET", URL, NOW)
    assert source.refreshes == 0


def test_remote_jwks_caches_and_rate_limits_refresh() -> None:
    documents = [JWKS, {"keys": [UNLISTED.as_dict(private=False)]}]
    fetched: list[str] = []

    def fetch(url: str, timeout: float) -> bytes:
        fetched.append(url)
        return json.dumps(documents[min(len(fetched) - 1, 1)]).encode()

    source = RemoteJwks("https://issuer/jwks", min_refresh_interval=60, max_age=3600, fetch=fetch)
    authenticator = make_authenticator(jwks=source)
    authenticator.authenticate(f"Bearer {sign()}", None, "GET", URL, NOW)
    authenticator.authenticate(f"Bearer {sign()}", None, "GET", URL, NOW + 1)
    assert len(fetched) == 1  # cached
    # Unknown kid within the refresh interval: no refetch.
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        authenticator.authenticate(f"Bearer {sign(key=UNLISTED)}", None, "GET", URL, NOW + 30)
    assert len(fetched) == 1
    # After it: one refetch finds the rotated key.
    token = sign(claims(iat=int(NOW) + 60, exp=int(NOW) + 600), key=UNLISTED)
    authenticator.authenticate(f"Bearer {token}", None, "GET", URL, NOW + 61)
    assert len(fetched) == 2


def test_remote_jwks_unavailable() -> None:
    def fetch(url: str, timeout: float) -> bytes:
        raise OSError("connection refused")

    source = RemoteJwks("https://issuer/jwks", fetch=fetch)
    with pytest.raises(Unauthenticated, match="signing keys unavailable"):
        make_authenticator(jwks=source).authenticate(f"Bearer {sign()}", None, "GET", URL, NOW)


# --- Principal ---------------------------------------------------------------------------

PID = "29422059278"  # synthetic (NAV Dolly) test number

PRINCIPAL_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any] | str]] = [
    (
        "organisation",
        "kompetanse:integration",
        {CLAIM_ORGNR_PARENT: ORG},
        {"kind": "organisation", "org_number": ORG, "parent_org_number": ORG},
    ),
    (
        "organisation acting for a sub-unit",
        "kompetanse:integration",
        {CLAIM_ORGNR_PARENT: ORG, CLAIM_ORGNR_CHILD: "987654325"},
        {"org_number": "987654325", "parent_org_number": ORG, "child_org_number": "987654325"},
    ),
    (
        "organisation without orgnr",
        "kompetanse:integration",
        {},
        "organisation token without organisation number",
    ),
    (
        "organisation with bad orgnr",
        "kompetanse:integration",
        {CLAIM_ORGNR_PARENT: "974589096"},
        "invalid organisation number claim",
    ),
    (
        "orgnr as a JSON number",
        "kompetanse:integration",
        {CLAIM_ORGNR_PARENT: 974589095},
        {"org_number": ORG},
    ),
    (
        "doctor by HPR",
        "kompetanse:doctor",
        {CLAIM_HPR_NUMBER: "565501872"},
        {"kind": "person", "hpr_number": "565501872", "pid": None},
    ),
    ("doctor by pid", "kompetanse:doctor", {CLAIM_PID: PID}, {"kind": "person", "pid": PID}),
    (
        "doctor without identifiers",
        "kompetanse:doctor",
        {},
        "person token without HPR number or national identity number",
    ),
    (
        "doctor bad pid",
        "kompetanse:doctor",
        {CLAIM_PID: "12345678901"},
        "invalid national identity number claim",
    ),
    ("doctor bad HPR", "kompetanse:doctor", {CLAIM_HPR_NUMBER: "0123"}, "invalid HPR number claim"),
    ("caseworker", "openid kompetanse:caseworker", {}, {"kind": "caseworker"}),
    ("admin", "kompetanse:admin", {CLAIM_PID: PID}, {"kind": "admin", "pid": PID}),
    (
        "admin and caseworker",
        "kompetanse:admin kompetanse:caseworker",
        {},
        "conflicting role scopes",
    ),
    ("no role scope", "openid", {}, "missing required scope"),
]


@pytest.mark.parametrize(
    ("scope", "extra", "expected"),
    [c[1:] for c in PRINCIPAL_CASES],
    ids=[c[0] for c in PRINCIPAL_CASES],
)
def test_principal_from_claims(
    scope: str, extra: dict[str, Any], expected: dict[str, Any] | str
) -> None:
    payload = {"sub": "s", "client_id": "c", **extra}
    scopes = frozenset(scope.split())
    if isinstance(expected, str):
        with pytest.raises(Unauthenticated) as caught:
            principal_from_claims(payload, scopes)
        assert caught.value.reason == expected
        return
    principal = principal_from_claims(payload, scopes)
    for name, value in expected.items():
        assert getattr(principal, name) == value
    assert principal.scopes == scopes


def test_principal_hides_pid() -> None:
    principal = Principal(kind="person", pid=PID, hpr_number="565501872")
    assert PID not in repr(principal)
    assert PID not in str(principal.log_fields())
    assert "pid" not in principal.log_fields()


# --- Development issuer ------------------------------------------------------------------


def test_dev_issuer_tokens_validate(tmp_path: Path) -> None:
    issuer = DevIssuer(tmp_path)
    authenticator = Authenticator(
        TokenValidator(issuer=issuer.issuer, audience=AUDIENCE, jwks=StaticJwks(issuer.jwks()))
    )
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("organisation", {"org_number": ORG}, "organisation"),
        ("doctor", {"hpr_number": "565501872"}, "person"),
        ("doctor", {"pid": PID}, "person"),
        ("caseworker", {}, "caseworker"),
        ("admin", {}, "admin"),
    ]
    for role, kwargs, kind in cases:
        token = issuer.mint(role, now=NOW, **kwargs)
        header = jwt.decode(token, StaticJwks(issuer.jwks()).key_set(NOW)).header
        assert header["typ"] == "at+jwt"
        principal = authenticator.authenticate(f"Bearer {token}", None, "GET", URL, NOW)
        assert principal.kind == kind


def test_dev_issuer_key_is_private_file_and_stable(tmp_path: Path) -> None:
    first = DevIssuer(tmp_path)
    assert first.key_path == tmp_path / "dev-issuer" / "private.jwk.json"
    assert first.key_path.stat().st_mode & 0o777 == 0o600
    assert DevIssuer(tmp_path).jwks() == first.jwks()
    assert all("d" not in key for key in first.jwks()["keys"])


@pytest.mark.parametrize(
    ("role", "kwargs"),
    [
        ("organisation", {}),
        ("organisation", {"org_number": "974589096"}),
        ("doctor", {}),
        ("doctor", {"pid": "12345678901"}),
        ("nurse", {}),
    ],
)
def test_dev_issuer_refuses_bad_input(tmp_path: Path, role: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DevIssuer(tmp_path).mint(role, **kwargs)


def test_dev_issuer_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert token_main(["--role", "organisation", "--org", ORG], data_dir=tmp_path) == 0
    token = capsys.readouterr().out.strip()
    decoded = jwt.decode(token, StaticJwks(DevIssuer(tmp_path).jwks()).key_set(NOW))
    assert decoded.claims[CLAIM_ORGNR_PARENT] == ORG
    assert decoded.claims["scope"] == "kompetanse:integration"
    assert token_main(["--role", "organisation"], data_dir=tmp_path) == 2


def test_from_settings_uses_the_dev_issuer_by_default(tmp_path: Path) -> None:
    from services.config import Settings

    authenticator = Authenticator.from_settings(Settings(data_dir=str(tmp_path)))
    token = DevIssuer(tmp_path).mint("caseworker", now=NOW)
    assert authenticator.authenticate(f"Bearer {token}", None, "GET", URL, NOW).kind == "caseworker"


@pytest.mark.parametrize(
    "settings",
    [{"token_issuer": ISSUER}, {"jwks_url": "https://issuer/jwks"}],
)
def test_from_settings_needs_issuer_and_jwks_url_together(settings: dict[str, Any]) -> None:
    from services.config import Settings

    with pytest.raises(ValueError):
        Authenticator.from_settings(Settings(**settings))
