"""Several API instances are really safe (issue #10): a DPoP proof accepted by one instance
is refused when replayed to another, through the shared ``dpop_proofs_seen`` table."""

from __future__ import annotations

import time

from litestar.testing import AsyncTestClient

from services.api.app import create_app
from services.identity.dev_issuer import generate_dpop_key, make_dpop_proof
from services.identity.dpop import thumbprint

BASE = "http://testserver.local"


async def test_a_dpop_proof_replayed_to_a_second_instance_is_refused(  # type: ignore[no-untyped-def]
    api_settings, issuer
) -> None:
    key = generate_dpop_key()
    token = issuer.mint("caseworker", dpop_jkt=thumbprint(key))
    path = "/api/v1/applications"
    async with (
        AsyncTestClient(app=create_app(api_settings), base_url=BASE) as first,
        AsyncTestClient(app=create_app(api_settings), base_url=BASE) as second,
    ):
        proof = make_dpop_proof(key, "GET", BASE + path, token, time.time())
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
        accepted = await first.get(path, headers=headers)
        assert accepted.status_code == 200, accepted.text
        replayed = await second.get(path, headers=headers)
        assert replayed.status_code == 401
        assert "replayed" in replayed.json()["detail"]
        # A fresh proof is still accepted by the second instance.
        fresh = make_dpop_proof(key, "GET", BASE + path, token, time.time())
        again = await second.get(path, headers={"Authorization": f"DPoP {token}", "DPoP": fresh})
        assert again.status_code == 200, again.text
