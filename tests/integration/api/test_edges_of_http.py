"""DPoP against the configured public URL, one DPoP header only, security headers on the
HTML page, no server banner, /metrics behind the operator's token (issue 13)."""

from __future__ import annotations

import time

import httpx
import msgspec
from litestar.testing import AsyncTestClient

from services.api.app import create_app
from services.identity.dev_issuer import generate_dpop_key, make_dpop_proof
from services.identity.dpop import thumbprint
from tests.integration.api.flow import World, set_up

PUBLIC = "http://testserver.local"  # api_settings.public_base_url


async def test_dpop_htu_is_the_public_url_and_one_proof_only(api, issuer) -> None:  # type: ignore[no-untyped-def]
    key = generate_dpop_key()
    token = issuer.mint("admin", dpop_jkt=thumbprint(key))
    path = "/api/v1/flags"

    async def call(headers: list[tuple[str, str]]) -> httpx.Response:
        return await api.get(path, headers=[("Authorization", f"DPoP {token}"), *headers])  # type: ignore[no-any-return]

    now = int(time.time())
    good = await call([("DPoP", make_dpop_proof(key, "GET", PUBLIC + path, token, now))])
    assert good.status_code == 200, good.text
    # Two DPoP headers: refused, not the first silently used.
    one = make_dpop_proof(key, "GET", PUBLIC + path, token, now)
    two = make_dpop_proof(key, "GET", PUBLIC + path, token, now)
    doubled = await call([("DPoP", one), ("DPoP", two)])
    assert doubled.status_code == 401 and "exactly one" in doubled.json()["detail"]


async def test_dpop_htu_defaults_to_the_address_started_on_not_the_host_header(  # type: ignore[no-untyped-def]
    api_settings, issuer
) -> None:
    settings = msgspec.structs.replace(api_settings, public_base_url=None)
    key = generate_dpop_key()
    token = issuer.mint("admin", dpop_jkt=thumbprint(key))
    path = "/api/v1/flags"
    now = int(time.time())
    started_on = f"http://{settings.http_host}:{settings.http_port}"
    # The client addresses us as evil.example (its Host header) and proves that URL: refused.
    async with AsyncTestClient(app=create_app(settings), base_url="http://evil.example") as c:
        for htu, status in [("http://evil.example", 401), (started_on, 200)]:
            proof = make_dpop_proof(key, "GET", htu + path, token, now)
            answer = await c.get(path, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
            assert answer.status_code == status, (htu, answer.text)


async def test_page_headers_no_banner_and_metrics_behind_a_token(api, api_settings, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    await set_up(api, world)
    page = await api.get("/api/v1/me/progress/page", headers=world.doctor)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert "server" not in page.headers
    api_answer = await api.get("/api/v1/me/progress", headers=world.doctor)
    assert api_answer.headers["cache-control"] == "no-store"
    assert api_answer.headers["x-content-type-options"] == "nosniff"
    assert (await api.get("/metrics")).status_code == 401
    assert (await api.get("/metrics", headers=world.admin)).status_code == 401
    token = (api_settings.data_path / "metrics-token").read_text().strip()
    scraped = await api.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scraped.status_code == 200 and "kompetanse_http_requests_total" in scraped.text
