"""The retry policy for Zuora calls: 429, 5xx and connection errors, full-jitter backoff honouring Retry-After."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import tenacity

# Statuses Zuora documents as transient (reference zuora-rest.md section 5, "Retry guidance").
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Never wait longer than this for one Retry-After, whatever the server says.
MAX_RETRY_AFTER_SECONDS = 300.0


class RetryableResponse(Exception):
    """A response worth retrying (429, 5xx, or 409 for a keyed request still in flight)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds; None when absent or not a number."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def full_jitter_wait(base: float, cap: float) -> Callable[[tenacity.RetryCallState], float]:
    """A tenacity wait: random(0, min(cap, base * 2**n)), but never less than the server's Retry-After."""

    def wait(state: tenacity.RetryCallState) -> float:
        exponent = max(state.attempt_number - 1, 0)
        delay = random.uniform(0, min(cap, base * (2**exponent)))
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableResponse) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    return wait


def retrying(max_retries: int, base: float, cap: float) -> tenacity.Retrying:
    """A tenacity controller retrying transient failures up to `max_retries` times, then re-raising."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type((RetryableResponse, httpx.TransportError)),
        wait=full_jitter_wait(base, cap),
        stop=tenacity.stop_after_attempt(max_retries + 1),
        reraise=True,
    )
