"""Every provider's error body becomes the Anthropic error the client sees."""

from __future__ import annotations

import aiohttp
import pytest

from lynkr_core import error_from_exception, error_from_response, retry_after


@pytest.mark.parametrize(
    ("status", "body", "error_type", "message"),
    [
        (529, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
         "overloaded_error", "Overloaded"),
        (400, b'{"error":{"message":"max_tokens is too large","type":"invalid_request_error",'
              b'"param":"max_tokens","code":null}}', "invalid_request_error", "max_tokens is too large"),
        (401, b'{"error":{"code":"401","message":"Access denied due to invalid subscription key"}}',
         "authentication_error", "Access denied due to invalid subscription key"),
        (429, b'{"error":{"code":429,"message":"Rate limit exceeded","metadata":{"raw":"upstream busy",'
              b'"provider_name":"Fireworks"}}}', "rate_limit_error", "Rate limit exceeded (upstream busy)"),
        (403, b'{"error_code":"PERMISSION_DENIED","message":"no access to endpoint"}',
         "permission_error", "PERMISSION_DENIED: no access to endpoint"),
        (404, b'{"error":"model \\"llama9\\" not found, try pulling it first"}',
         "not_found_error", 'model "llama9" not found, try pulling it first'),
        (503, b"<html>Service Unavailable</html>", "overloaded_error",
         "upstream returned HTTP 503: <html>Service Unavailable</html>"),
        (500, b"", "api_error", "upstream returned HTTP 500"),
    ],
)
def test_error_bodies_of_each_format(status, body, error_type, message):
    error = error_from_response(status, body, {})
    assert (error.status, error.error_type, error.message) == (status, error_type, message)


def test_an_openai_error_type_that_anthropic_lacks_follows_the_status():
    error = error_from_response(429, b'{"error":{"message":"quota","type":"insufficient_quota"}}', {})
    assert error.error_type == "rate_limit_error"
    assert error.retryable


def test_422_is_reported_as_400():
    error = error_from_response(422, b'{"error":{"message":"bad schema"}}', {})
    assert (error.status, error.error_type, error.retryable) == (400, "invalid_request_error", False)


def test_retry_after_in_seconds_and_milliseconds():
    assert retry_after({"Retry-After": "7"}) == 7
    assert retry_after({"retry-after-ms": "1500", "retry-after": "2"}) == 1.5
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert error_from_response(429, b"{}", {"retry-after": "3"}).retry_after == 3


def test_connection_faults_and_timeouts_are_retryable():
    timeout = error_from_exception(TimeoutError(), "http://up")
    assert (timeout.status, timeout.error_type, timeout.retryable) == (504, "timeout_error", True)
    broken = error_from_exception(aiohttp.ServerDisconnectedError(), "http://up")
    assert broken.status == 502 and broken.retryable
