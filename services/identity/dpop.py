"""DPoP proofs (RFC 9449): the client proves, per request, that it holds the private key a
sender-constrained access token is bound to (the token's ``cnf.jkt``).

Checks (RFC 9449, section 4.3): one well-formed JWT; ``typ`` ``dpop+jwt``; an asymmetric
``alg``; a public ``jwk`` header that verifies the signature; ``htm`` and ``htu`` match
the request (``htu`` without query and fragment, normalised per RFC 3986 6.2.2-6.2.3);
``iat`` within a window; ``ath`` is the hash of the access token; the jwk's thumbprint
(RFC 7638) equals the token's ``cnf.jkt``; and, last, ``jti`` not seen before.
Server-provided nonces (RFC 9449, section 8) are not used.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import re
import threading
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from services.identity.errors import Unauthenticated
from services.identity.tokens import (
    ASYMMETRIC_ALGORITHMS,
    AsymmetricKey,
    check_algorithm,
    extract_jws,
    is_numeric_date,
    json_payload,
    verify_jws,
)

PROOF_TYPES: Final = frozenset({"dpop+jwt", "application/dpop+jwt"})
# JWK members that only private (or symmetric) keys carry (RFC 7518, 6.2.2, 6.3.2, 6.4).
PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_JTI_LENGTH: Final = 256
MIN_RSA_BITS: Final = 2048


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url (no padding) of the SHA-256 of the token's ASCII bytes."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _normalise_percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normalise_url(url: str) -> str:
    """Scheme, host and path of an http(s) URL, for comparing ``htu``: lower-case scheme
    and host, default port dropped, empty path as "/", percent-encoding normalised; query,
    fragment and user info dropped. ``ValueError`` if it is not an absolute http(s) URL."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError("not an absolute http(s) URL")
    port = parts.port  # ValueError when out of range
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _PERCENT.sub(_normalise_percent, parts.path or "/")
    return f"{scheme}://{netloc}{path}"


# --- Replay cache ------------------------------------------------------------------------


class ReplayCache(Protocol):
    """Remembers DPoP proof identifiers until they could no longer be accepted anyway."""

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        """Atomically record ``key`` until ``expires_at``. True if it was new; False if it
        is already recorded and unexpired (a replay)."""
        ...


class InMemoryReplayCache:
    """A per-process replay cache with expiry. With several API processes, use a shared
    store (e.g. a PostgreSQL table with a unique key) behind the same interface."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            expires_at, key = heapq.heappop(self._heap)
            if self._expiry.get(key) == expires_at:
                del self._expiry[key]

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        with self._lock:
            self._purge(now)
            if key in self._expiry:
                return False
            if len(self._expiry) >= self.max_entries:
                # Fail closed: accepting without remembering would allow replays.
                raise Unauthenticated("too many requests; retry shortly")
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return True


# --- Proof verification ------------------------------------------------------------------


def proof_key(header: Mapping[str, Any]) -> AsymmetricKey:
    """The public key from the proof's ``jwk`` header; private material is refused."""
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise Unauthenticated("DPoP proof without key")
    if PRIVATE_JWK_MEMBERS & jwk.keys():
        raise Unauthenticated("DPoP proof key must be a public key")
    try:
        key = import_key(jwk)
    except (JoseError, ValueError, TypeError) as err:
        raise Unauthenticated("invalid DPoP proof key") from err
    if not isinstance(key, RSAKey | ECKey | OKPKey) or key.is_private:
        raise Unauthenticated("DPoP proof key must be a public key")
    if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_BITS:
        raise Unauthenticated("DPoP proof key too weak")
    return key


def thumbprint(key: AsymmetricKey | Mapping[str, Any]) -> str:
    """RFC 7638 JWK SHA-256 thumbprint, base64url: the value of ``cnf.jkt``."""
    imported = key if isinstance(key, RSAKey | ECKey | OKPKey) else import_key(dict(key))
    return imported.thumbprint()


@dataclass(frozen=True)
class SeenProof:
    """A proof accepted here: its replay key and when it could no longer be accepted."""

    key: str
    expires_at: float


class DpopVerifier:
    def __init__(
        self,
        *,
        replay_cache: ReplayCache,
        iat_window_seconds: float = 60.0,
        algorithms: Collection[str] = ASYMMETRIC_ALGORITHMS,
    ) -> None:
        if set(algorithms) - ASYMMETRIC_ALGORITHMS:
            raise ValueError("DPoP proofs use asymmetric signature algorithms only")
        self.replay_cache = replay_cache
        self.window = iat_window_seconds
        self.algorithms = frozenset(algorithms)

    def verify(
        self, proof: str, *, method: str, url: str, access_token: str, jkt: str, now: float
    ) -> SeenProof:
        """Accept the proof for this request and token bound to ``jkt``, or raise
        ``Unauthenticated``. A proof that passes is remembered and never accepted again by
        this process; the returned key lets the caller remember it across processes."""
        if "," in proof or " " in proof.strip():
            raise Unauthenticated("malformed DPoP proof")  # several DPoP headers joined
        obj = extract_jws(proof.strip(), "DPoP proof")
        header = obj.headers()
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in PROOF_TYPES:
            raise Unauthenticated("wrong DPoP proof type")
        alg = check_algorithm(header, self.algorithms)
        key = proof_key(header)
        verify_jws(obj, key, alg)
        claims = json_payload(obj, "DPoP proof")

        jti, htm, htu, iat, ath = (claims.get(n) for n in ("jti", "htm", "htu", "iat", "ath"))
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise Unauthenticated("DPoP proof without valid jti")
        if not isinstance(htm, str) or htm != method:
            raise Unauthenticated("DPoP proof for another method")
        if not isinstance(htu, str) or not _same_url(htu, url):
            raise Unauthenticated("DPoP proof for another URL")
        if not is_numeric_date(iat):
            raise Unauthenticated("DPoP proof without valid iat")
        assert isinstance(iat, int | float)
        if iat < now - self.window:
            raise Unauthenticated("stale DPoP proof")
        if iat > now + self.window:
            raise Unauthenticated("DPoP proof issued in the future")
        if not isinstance(ath, str) or ath != access_token_hash(access_token):
            raise Unauthenticated("DPoP proof for another access token")
        proof_jkt = key.thumbprint()
        if proof_jkt != jkt:
            raise Unauthenticated("DPoP key does not match token")
        replay_key = hashlib.sha256(f"{proof_jkt} {jti}".encode()).hexdigest()
        if not self.replay_cache.check_and_store(replay_key, iat + self.window, now):
            raise Unauthenticated("DPoP proof replayed")
        return SeenProof(replay_key, iat + self.window)


def _same_url(htu: str, url: str) -> bool:
    try:
        return normalise_url(htu) == normalise_url(url)
    except ValueError:
        return False
