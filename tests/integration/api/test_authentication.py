"""Every endpoint refuses a request without a valid token (401, problem+json), for every
way a token can be wrong. The endpoint list is read from the app itself, so a new route is
covered the moment it exists."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from services.api.access import Access
from services.api.app import create_app


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def protected_routes(settings) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    routes = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("access") is Access.PUBLIC or route.path.startswith("/schema"):
                continue
            for method in sorted(handler.http_methods):
                path = route.path.replace("{doctor_id:str}", "d-unknown").replace(
                    "{org_number:str}", "974589095"
                )
                for name in ("objective_id", "period_id", "application_id", "delegation_id"):
                    path = path.replace("{" + name + ":str}", "x-1")
                routes.append((method, path))
    return routes


def bad_tokens(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    now = time.time()
    good_claims = jwt.decode(
        issuer.mint("admin"), ECKey.import_key(issuer.jwks()["keys"][0])
    ).claims
    public_jwk = issuer.jwks()["keys"][0]
    hmac_key = OctKey.import_key(json.dumps(public_jwk).encode())
    other_key = ECKey.generate_key("P-256")
    return {
        "missing": "",
        "garbage": "Bearer not-a-jwt",
        "expired": "Bearer " + issuer.mint("admin", now=now - 7200, ttl_seconds=600),
        "not yet valid": "Bearer " + issuer.mint("admin", now=now + 3600),
        "wrong audience": "Bearer " + issuer.mint("admin", audience="someone-else"),
        "wrong issuer": "Bearer "
        + jwt.encode(
            {"alg": "ES256", "typ": "at+jwt", "kid": issuer.kid},
            {**good_claims, "iss": "https://evil.example"},
            other_key,
        ),
        "alg none": "Bearer "
        + b64({"alg": "none", "typ": "at+jwt"})
        + "."
        + b64(good_claims)
        + ".",
        "hmac with public key": "Bearer "
        + jwt.encode(
            {"alg": "HS256", "typ": "at+jwt", "kid": issuer.kid},
            good_claims,
            hmac_key,
            algorithms=["HS256"],
        ),
        "wrong key": "Bearer "
        + jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": issuer.kid}, good_claims, other_key),
        "dpop without proof": "DPoP " + issuer.mint("admin", dpop_jkt="x" * 43),
    }


@pytest.mark.timeout(300)
async def test_every_endpoint_refuses_invalid_tokens(api, api_settings, issuer) -> None:  # type: ignore[no-untyped-def]
    routes = protected_routes(api_settings)
    assert routes, "no protected routes found"
    failures = []
    for label, authorization in bad_tokens(issuer).items():
        headers = {"Authorization": authorization} if authorization else {}
        for method, path in routes:
            response = await api.request(method, path, headers=headers, json={})
            if response.status_code != 401 or not response.headers["content-type"].startswith(
                "application/problem+json"
            ):
                failures.append((label, method, path, response.status_code))
            elif label != "missing":
                assert response.json()["status"] == 401
    assert failures == []


async def test_operations_endpoints_are_public(api) -> None:  # type: ignore[no-untyped-def]
    assert (await api.get("/healthz")).status_code == 200
    assert (await api.get("/schema/openapi.json")).status_code == 200


async def test_every_endpoint_refuses_bad_dpop_proofs(api, api_settings, issuer) -> None:  # type: ignore[no-untyped-def]
    import time as clock

    from services.identity.dev_issuer import generate_dpop_key, make_dpop_proof
    from services.identity.dpop import thumbprint

    key = generate_dpop_key()
    token = issuer.mint("admin", dpop_jkt=thumbprint(key))
    base = "http://testserver.local"
    failures = []
    for method, path in protected_routes(api_settings):
        now = clock.time()
        used = make_dpop_proof(key, method, base + path, token, now)
        await api.request(
            method, path, json={}, headers={"Authorization": f"DPoP {token}", "DPoP": used}
        )
        other = "POST" if method != "POST" else "GET"
        proofs = {
            "reused jti": used,
            "another method": make_dpop_proof(key, other, base + path, token, now),
            "another URL": make_dpop_proof(key, method, base + "/api/v1/elsewhere", token, now),
            "wrong key": make_dpop_proof(generate_dpop_key(), method, base + path, token, now),
        }
        for label, proof in proofs.items():
            response = await api.request(
                method, path, json={}, headers={"Authorization": f"DPoP {token}", "DPoP": proof}
            )
            if response.status_code != 401:
                failures.append((label, method, path, response.status_code))
    assert failures == []
