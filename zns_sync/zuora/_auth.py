"""OAuth 2.0 client credentials for Zuora: one cached bearer token, refreshed under a lock before it expires."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx
import tenacity

from zns_sync.config import ZuoraSettings
from zns_sync.zuora._errors import ZuoraAuthError, ZuoraError
from zns_sync.zuora._retry import RETRY_STATUSES, RetryableResponse

log = logging.getLogger("zns_sync.zuora")

TOKEN_PATH = "/oauth/token"
# Zuora advises refreshing about 300 s early; short-lived tokens refresh at 90% of their life instead.
REFRESH_MARGIN_SECONDS = 300.0


class TokenSource:
    """Fetches and caches Zuora bearer tokens; thread-safe."""

    def __init__(
        self,
        http: httpx.Client,
        settings: ZuoraSettings,
        retrying: Callable[[], tenacity.Retrying],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._settings = settings
        self._retrying = retrying
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    def token(self) -> str:
        """A valid bearer token, fetched when none is cached or the cached one is about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` (Zuora answered 401 with it) so that the next call fetches a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> None:
        form = {
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret.reveal(),
            "grant_type": "client_credentials",
        }
        started = self._clock()
        try:
            response = self._retrying()(self._post, form)
        except RetryableResponse as exc:
            raise ZuoraError(
                f"Zuora at {self._settings.base_url} kept failing the token request: HTTP {exc.response.status_code}",
                status=exc.response.status_code,
            ) from None
        except httpx.TransportError as exc:
            raise ZuoraError(f"cannot reach Zuora at {self._settings.base_url}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (400, 401, 403):
            raise ZuoraAuthError(
                f"Zuora refused the OAuth client credentials (client_id {self._settings.client_id}) "
                f"at {self._settings.base_url}: HTTP {response.status_code} {_reason(response)}",
                status=response.status_code,
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in", 3599))
        except (ValueError, KeyError, TypeError):
            raise ZuoraError(
                f"Zuora at {self._settings.base_url} answered the token request with HTTP "
                f"{response.status_code} and no usable token",
                status=response.status_code,
            ) from None
        margin = min(REFRESH_MARGIN_SECONDS, expires_in * 0.1)
        self._token = token
        self._refresh_at = started + max(expires_in - margin, 0.0)
        log.debug("Zuora OAuth token obtained, valid %.0f s", expires_in)

    def _post(self, form: dict[str, str]) -> httpx.Response:
        response = self._http.post(TOKEN_PATH, data=form)
        if response.status_code in RETRY_STATUSES:
            raise RetryableResponse(response)
        return response


def _reason(response: httpx.Response) -> str:
    """Zuora's message from an error body, whatever its shape."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        for key in ("error_description", "message", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
        reasons = body.get("reasons")
        if isinstance(reasons, list) and reasons and isinstance(reasons[0], dict):
            return str(reasons[0].get("message", ""))
    return response.reason_phrase
