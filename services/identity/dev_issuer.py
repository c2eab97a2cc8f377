"""A development token issuer, so the embedded default can be tried in minutes.

One EC P-256 key pair, created on first use under ``<data_dir>/dev-issuer/private.jwk.json``
(mode 0600), signs access tokens shaped like HelseID's: ``typ: at+jwt``, space-separated
``scope``, ``client_id``, ``sub``, ``jti``, ``iat``/``nbf``/``exp``, ``aud``, ``iss`` and
HelseID's claim names. Never trusted unless ``TOKEN_ISSUER`` is unset.

CLI (wired as ``kompetanse token``)::

    kompetanse token --role organisation --org 974589095
    kompetanse token --role doctor --hpr 565501872
    kompetanse token --role caseworker
    kompetanse token --jwks
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import sys
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey, import_key

from domain.identifiers import check_hpr_number, check_national_id, check_org_number
from services.identity.dpop import access_token_hash
from services.identity.principal import (
    CLAIM_HPR_NUMBER,
    CLAIM_ORGNR_CHILD,
    CLAIM_ORGNR_PARENT,
    CLAIM_PID,
    SCOPE_ADMIN,
    SCOPE_CASEWORKER,
    SCOPE_DOCTOR,
    SCOPE_INTEGRATION,
)

DEV_ISSUER: Final = "https://dev-issuer.kompetanse.invalid"
DEFAULT_AUDIENCE: Final = "kompetanse"
ROLE_SCOPE: Final = {
    "organisation": SCOPE_INTEGRATION,
    "doctor": SCOPE_DOCTOR,
    "caseworker": SCOPE_CASEWORKER,
    "admin": SCOPE_ADMIN,
}
KEY_FILE: Final = Path("dev-issuer") / "private.jwk.json"


def _load_or_create_key(path: Path) -> ECKey:
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"})
        key.ensure_kid()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(key.as_dict(private=True), f)
        try:
            os.link(tmp, path)  # atomic create-if-absent: a concurrent creator wins cleanly
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    loaded = import_key(json.loads(path.read_text()))
    if not isinstance(loaded, ECKey) or not loaded.is_private:
        raise ValueError(f"{path} does not hold an EC private key")
    loaded.ensure_kid()
    return loaded


def _pseudonym(*parts: str) -> str:
    """A stable, opaque ``sub`` (HelseID's person ``sub`` is pairwise and opaque too)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return base64.b64encode(digest).decode("ascii")


class DevIssuer:
    def __init__(
        self,
        data_dir: Path | str,
        *,
        issuer: str = DEV_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.key_path = Path(data_dir) / KEY_FILE
        self._key = _load_or_create_key(self.key_path)

    @property
    def kid(self) -> str:
        return str(self._key.kid)

    def jwks(self) -> dict[str, Any]:
        """The public key set (what a ``jwks_uri`` would serve)."""
        return dict(KeySet([self._key]).as_dict(private=False))

    def mint(
        self,
        role: str,
        *,
        org_number: str | None = None,
        child_org_number: str | None = None,
        hpr_number: str | None = None,
        pid: str | None = None,
        client_id: str | None = None,
        ttl_seconds: int = 3600,
        dpop_jkt: str | None = None,
        now: float | None = None,
        audience: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An access token for ``role`` (organisation, doctor, caseworker, admin).
        ``dpop_jkt`` binds it to a DPoP key (``cnf.jkt``). ``ValueError`` on bad input."""
        _check_request(role, org_number, child_org_number, hpr_number, pid)
        issued = int(time.time() if now is None else now)
        if client_id is None:
            client_id = f"dev-{role}-{org_number}" if org_number else f"dev-{role}"
        if role == "organisation":
            subject = client_id
        elif hpr_number or pid:
            subject = _pseudonym(self.issuer, pid or "", hpr_number or "")
        else:
            subject = f"dev-{role}"
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "client_id": client_id,
            "scope": ROLE_SCOPE[role],
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_seconds,
        }
        optional = {
            CLAIM_ORGNR_PARENT: org_number,
            CLAIM_ORGNR_CHILD: child_org_number,
            CLAIM_HPR_NUMBER: hpr_number,
            CLAIM_PID: pid,
        }
        claims.update({name: value for name, value in optional.items() if value is not None})
        if hpr_number or pid:
            claims["helseid://claims/identity/security_level"] = "4"
            claims["helseid://claims/identity/assurance_level"] = "high"
        if dpop_jkt is not None:
            claims["cnf"] = {"jkt": dpop_jkt}
        claims.update(extra_claims or {})
        header = {"alg": "ES256", "kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._key, algorithms=["ES256"])


def _check_request(
    role: str,
    org_number: str | None,
    child_org_number: str | None,
    hpr_number: str | None,
    pid: str | None,
) -> None:
    if role not in ROLE_SCOPE:
        raise ValueError(f"role must be one of {', '.join(ROLE_SCOPE)}")
    _check("organisation number", org_number, check_org_number)
    _check("child organisation number", child_org_number, check_org_number)
    _check("HPR number", hpr_number, check_hpr_number)
    _check("national identity number", pid, check_national_id)
    if role == "organisation" and org_number is None:
        raise ValueError("an organisation token needs an organisation number")
    if role == "doctor" and hpr_number is None and pid is None:
        raise ValueError("a doctor token needs an HPR number or a national identity number")


def _check(label: str, value: str | None, check: Any) -> None:
    if value is not None:
        reason = check(value)
        if reason is not None:
            raise ValueError(f"invalid {label}: {reason}")


# --- DPoP helpers for clients and tests --------------------------------------------------


def generate_dpop_key() -> ECKey:
    """A fresh EC P-256 private key for a DPoP client."""
    return ECKey.generate_key("P-256")


_EC_ALGORITHMS: Final = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


def _signing_algorithm(key: RSAKey | ECKey | OKPKey) -> str:
    if isinstance(key, ECKey):
        return _EC_ALGORITHMS[key.curve_name]
    return "PS256" if isinstance(key, RSAKey) else "EdDSA"


def make_dpop_proof(
    private_jwk: RSAKey | ECKey | OKPKey | Mapping[str, Any],
    method: str,
    url: str,
    access_token: str | None,
    now: float,
    jti: str | None = None,
) -> str:
    """A DPoP proof JWT (RFC 9449, 4.2) for one request; ``htu`` is ``url`` without query
    and fragment; ``ath`` is set when an access token is given."""
    key = private_jwk if isinstance(private_jwk, RSAKey | ECKey | OKPKey) else None
    if key is None:
        imported = import_key(dict(private_jwk))
        if not isinstance(imported, RSAKey | ECKey | OKPKey):
            raise ValueError("a DPoP key must be an RSA, EC or OKP key")
        key = imported
    if not key.is_private:
        raise ValueError("a DPoP proof is signed with a private key")
    alg = _signing_algorithm(key)
    parts = urllib.parse.urlsplit(url)
    claims: dict[str, Any] = {
        "jti": jti or uuid.uuid4().hex,
        "htm": method,
        "htu": urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        "iat": int(now),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    return jwt.encode(header, claims, key, algorithms=[alg])


# --- CLI ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kompetanse token",
        description="Mint a development access token (trusted only when TOKEN_ISSUER is unset).",
    )
    parser.add_argument("--role", choices=sorted(ROLE_SCOPE))
    parser.add_argument("--org", help="organisation number (orgnr_parent)")
    parser.add_argument("--child-org", help="sub-unit organisation number (orgnr_child)")
    parser.add_argument("--hpr", help="HPR number")
    parser.add_argument("--pid", help="national identity number (use synthetic test numbers)")
    parser.add_argument("--client-id")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    parser.add_argument("--dpop-jkt", help="bind to a DPoP key: its RFC 7638 thumbprint")
    parser.add_argument("--audience", help="aud claim (default: the configured audience)")
    parser.add_argument("--jwks", action="store_true", help="print the public JWKS instead")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    data_dir: Path | str = "var",
    audience: str = DEFAULT_AUDIENCE,
) -> int:
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    issuer = DevIssuer(data_dir, audience=args.audience or audience)
    if args.jwks:
        print(json.dumps(issuer.jwks(), indent=2))
        return 0
    if args.role is None:
        parser.error("--role is required")
    try:
        token = issuer.mint(
            args.role,
            org_number=args.org,
            child_org_number=args.child_org,
            hpr_number=args.hpr,
            pid=args.pid,
            client_id=args.client_id,
            ttl_seconds=args.ttl,
            dpop_jkt=args.dpop_jkt,
        )
    except ValueError as err:
        print(f"kompetanse token: {err}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
