"""SSRF: image and document URL sources (also inside tool results) that a provider in the
operator's network would fetch are refused before anything goes upstream, in every
spelling of a private address, unless the operator allows them; public ones pass on
unchanged. The unit table is ``lynkr_core.egress``; the rest runs through lynkr to a
fake llama-server and a fake Anthropic API on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket

import aiohttp
import pytest
import structlog

from lynkr_core.config import Settings
from lynkr_core.egress import MAX_RESOLVED_HOSTS, EgressPolicy, UrlRefused, resolve
from lynkr_core.errors import InvalidRequest
from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.gateway import CLAUDE_CODE_FIXTURES, Harness, quick_retries
from lynkr_core.url_sources import check_url_sources, url_sources
from lynkr_core.wire.anthropic import decode_request

# --------------------------------------------------------------------------- #
# The unit table

REFUSED = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://localhost:8080/admin", "loopback name"),
    ("http://LocalHost./", "loopback name"),
    ("http://api.localhost/", "loopback name"),
    ("http://127.0.0.1/", "loopback"),
    ("http://127.255.0.9:22/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f.1/", "loopback"),  # hex, short
    ("http://0x7F000001/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://017700000001/", "loopback"),
    ("http://127.1/", "loopback"),  # short
    ("http://127.0.0.1./", "loopback"),  # trailing dot
    ("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", "loopback"),  # full-width 127.0.0.1
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://[fd00::1]/", "unique local"),
    ("http://[fc00::1]/", "unique local"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://192.0.2.10/", "reserved"),
    ("http://[2001:db8::1]/", "reserved"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("http://[::ffff:8.8.8.8]/", "IPv4-mapped"),
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64"),
    ("http://[2002:7f00:1::]/", "6to4"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://1.1.1.1/", "only http and https"),
    ("ftp://1.1.1.1/x", "only http and https"),
    ("//1.1.1.1/x.png", "only http and https"),
    ("http:/1.1.1.1/x.png", "no host"),
    ("http://127.0.0.1\\@1.1.1.1/", "backslashes"),  # parsers disagree on the host
    ("http://1.1.1.1/a b", "whitespace"),
    ("http://1.1.1.1:99999/", "cannot be parsed"),
    ("http://127.0.0.%31/", "neither a host name nor an IP address"),
    ("http://1.2.3.4.5/", "not a valid IPv4 address"),
    ("http://08.0.0.1/", "not a valid IPv4 address"),
    # names: the fake resolver below answers for these
    ("https://metadata.internal/computeMetadata/v1/", "resolves to a link-local address (169.254.169.254)"),
    ("https://half-private.example/x.png", "resolves to a private address (10.1.2.3)"),
    ("https://ula.example/x.png", "resolves to a private (unique local) address"),
    ("https://missing.example/x.png", "missing.example does not resolve"),
    ("https://empty.example/x.png", "empty.example does not resolve"),
    ("https://slow.example/x.png", "did not resolve within 0.2 s"),
]

ALLOWED = [
    ("https://1.1.1.1/cat.png", "1.1.1.1"),
    ("http://8.8.8.8:8080/x", "8.8.8.8"),
    ("https://[2606:4700::1111]/cat.png", "2606:4700::1111"),
    ("https://public.example/cat.png?sig=abc", "public.example"),
    ("HTTPS://Public.Example./cat.png", "public.example"),
    ("https://user:pw@public.example/cat.png", "public.example"),
    ("https://bücher.example/cat.png", "xn--bcher-kva.example"),
]

DNS = {
    "metadata.internal": ["169.254.169.254"],
    "half-private.example": ["93.184.215.14", "10.1.2.3"],
    "ula.example": ["fd12::1"],
    "public.example": ["93.184.215.14", "2606:4700::1111"],
    "xn--bcher-kva.example": ["93.184.215.15"],
    "empty.example": [],
}


async def fake_resolver(host: str, port: int) -> list[str]:
    """A DNS of its own: no network, the same answers everywhere."""
    if host == "slow.example":
        await asyncio.sleep(5)
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return DNS[host]


def policy(**options) -> EgressPolicy:
    return EgressPolicy(resolver=fake_resolver, resolve_timeout=0.2, **options)


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_refused(url, reason):
    with pytest.raises(UrlRefused) as refused:
        await policy().check_url(url)
    assert reason in refused.value.reason
    assert url not in refused.value.reason  # the reason names the host, never the whole URL


@pytest.mark.parametrize(("url", "host"), ALLOWED)
async def test_allowed(url, host):
    assert (await policy().check_url(url)).host == host


def from_env(**env: str) -> EgressPolicy:
    """The policy lynkr builds from ``env``, with the fake resolver."""
    built = EgressPolicy.from_settings(Settings(env))
    return dataclasses.replace(built, resolver=fake_resolver, resolve_timeout=0.2)


async def test_the_operator_allows_hosts_by_name_address_or_subdomain():
    allowing = from_env(LYNKR_URL_ALLOWED_HOSTS=" 127.0.0.1, Images.Internal. ,*.corp.example,[::1]")
    for url in (
        "http://127.0.0.1:8080/a.png",
        "http://2130706433/a.png",  # the same address, spelt otherwise
        "http://images.internal/a.png",  # would not even resolve: no lookup for allowed hosts
        "http://a.b.corp.example/a.png",
        "http://[::1]/a.png",
    ):
        await allowing.check_url(url)
    for url in ("http://evilcorp.example/", "http://corp.example.evil/", "http://127.0.0.2/", "http://localhost/"):
        with pytest.raises(UrlRefused):
            await allowing.check_url(url)
    with pytest.raises(UrlRefused, match="only http and https"):
        await allowing.check_url("file://127.0.0.1/etc/passwd")


async def test_allowing_private_urls_allows_every_host_but_still_only_http():
    open_policy = from_env(LYNKR_ALLOW_PRIVATE_URLS="true")
    for url in ("http://localhost/", "http://169.254.169.254/", "http://[::1]/", "http://missing.example/"):
        await open_policy.check_url(url)
    with pytest.raises(UrlRefused, match="only http and https"):
        await open_policy.check_url("file:///etc/passwd")
    assert not from_env().allow_private and not from_env().allowed_hosts


async def test_the_real_resolver_is_used_and_bounded():
    assert {"127.0.0.1", "::1"} & set(await resolve("localhost", 80))
    with pytest.raises(UrlRefused, match=r"nothing\.invalid (does not resolve|did not resolve within)"):
        await EgressPolicy(resolve_timeout=1.5).check_url("http://nothing.invalid/x.png")


async def test_each_name_is_looked_up_once_and_the_lookups_are_bounded():
    looked_up: list[str] = []

    async def counting(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.215.14"]

    counted = EgressPolicy(resolver=counting)
    urls = ["https://a.example/1", "https://a.example/2", "http://127.0.0.1/", "https://b.example/"]
    outcomes = await counted.check_urls(urls)
    assert [o is None for o in outcomes] == [True, True, False, True]
    assert sorted(looked_up) == ["a.example", "b.example"]

    many = [f"https://host{n}.example/x.png" for n in range(MAX_RESOLVED_HOSTS + 3)]
    outcomes = await counted.check_urls(many)
    assert all(o is None for o in outcomes[:MAX_RESOLVED_HOSTS])
    assert all("more than" in o.reason for o in outcomes[MAX_RESOLVED_HOSTS:])


# --------------------------------------------------------------------------- #
# Finding the URL sources of a request


def image(url: str) -> dict:
    return {"type": "image", "source": {"type": "url", "url": url}}


def document(url: str) -> dict:
    return {"type": "document", "source": {"type": "url", "url": url}}


def body_with(*blocks: dict, **extra) -> dict:
    content = [{"type": "text", "text": "describe this"}, *blocks]
    return {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": content}], **extra}


def test_every_url_source_is_found_with_where_it_is():
    body = {
        "model": "m",
        "max_tokens": 10,
        "system": [{"type": "text", "text": "sys"}, image("http://s/")],
        "messages": [
            {"role": "user", "content": [image("http://a/"), document("http://b/")]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "fetch", "input": {"type": "url", "url": "http://not-a-source/"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "x"}, image("http://c/")]},
                {"type": "document", "source": {"type": "content", "content": [image("http://d/")]}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
            ]},
            {"role": "user", "content": "a plain string with \"url\" in it"},
        ],
    }
    found = sources_of(json.dumps(body).encode())
    assert sorted(found) == sorted([
        ("system[1].source.url", "http://s/"),
        ("messages[0].content[0].source.url", "http://a/"),
        ("messages[0].content[1].source.url", "http://b/"),
        ("messages[2].content[0].content[1].source.url", "http://c/"),
        ("messages[2].content[1].source.content[0].source.url", "http://d/"),
    ])


def sources_of(body: bytes) -> list[tuple[str, object]]:
    return [(s.where, s.url) for s in url_sources(decode_request(body))]


def test_claude_code_requests_have_none_and_every_spelling_is_found():
    for name in ("turn1.json", "turn2.json"):
        raw = (CLAUDE_CODE_FIXTURES / name).read_bytes()
        assert b'"url":' in raw  # its WebFetch tool has a "url" property: not a source
        assert sources_of(raw) == []
    where = "messages[0].content[1].source.url"
    plain = json.dumps(body_with(image("http://x/")))
    assert sources_of(plain.encode()) == [(where, "http://x/")]
    escaped = plain.replace('"url"', '"\\u0075r\\u006C"').replace('"source"', '"s\\u006furce"')
    assert "url" not in escaped.replace("http", "")  # no plain spelling left to search for
    assert sources_of(escaped.encode()) == [(where, "http://x/")]
    spaced = b'{"model":"m","messages":[{"role":"user","content":[ {"type" : "image" ,\n "source" : { "type" :\n "url" , "url" : "http://y/" } } ]}]}'
    assert sources_of(spaced) == [("messages[0].content[0].source.url", "http://y/")]
    # a repeated key: the last one counts, as for lynkr's own decoding of the block
    repeated = b'{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"x"},"source":{"type":"url","url":"http://z/"}}]}]}'
    assert sources_of(repeated) == [("messages[0].content[0].source.url", "http://z/")]


async def test_a_url_that_is_not_a_string_is_refused():
    body = json.dumps(body_with({"type": "image", "source": {"type": "url", "url": ["http://x/"]}})).encode()
    with pytest.raises(InvalidRequest, match=r"messages\[0\].content\[1\].source.url: must be a string"):
        await check_url_sources(decode_request(body), Settings({}))


# --------------------------------------------------------------------------- #
# Through lynkr


def llamacpp_env(base_url: str, **extra: str) -> dict[str, str]:
    return {"MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": base_url, **quick_retries(), **extra}


LLAMACPP = Harness(llamacpp_env)
ANTHROPIC = Harness(
    lambda base_url, **extra: {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream",
        **quick_retries(),
        **extra,
    }
)
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def assert_refused(status: int, text: str, where: str, why: str) -> None:
    assert status == 400, text
    error = json.loads(text)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"{where}: refused: ")
    assert why in error["message"]
    assert "LYNKR_URL_ALLOWED_HOSTS" in error["message"]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_private_image_url_never_reaches_the_provider(stream):
    fake = FakeOpenAI([ChatReply("a cat")], dialect="llamacpp")
    async with LLAMACPP.run(fake) as gw:
        with structlog.testing.capture_logs() as logs:
            status, _, text = await gw.post_raw({**body_with(image(METADATA)), "stream": stream})
        assert_refused(status, text, "messages[0].content[1].source.url", "169.254.169.254 is a link-local address")
        assert "security-credentials" not in text  # the URL's path is not echoed
        assert fake.requests == []
        refusal = [entry for entry in logs if entry["event"] == "url_refused"]
        assert refusal == [{
            "event": "url_refused", "log_level": "info", "where": "messages[0].content[1].source.url",
            "host": "169.254.169.254", "reason": "169.254.169.254 is a link-local address",
        }]
        status, _, _ = await gw.post_raw(body_with())  # and lynkr keeps serving
        assert status == 200


async def test_urls_inside_tool_results_documents_and_count_tokens_are_checked_too():
    async with ANTHROPIC.run(FakeAnthropic()) as gw:
        tool_turns = [
            {"role": "user", "content": "look"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [image("http://[::1]:9000/shot.png")]},
            ]},
        ]
        status, _, text = await gw.post_raw({"model": "m", "max_tokens": 10, "messages": tool_turns})
        assert_refused(status, text, "messages[2].content[0].content[0].source.url", "loopback")

        status, _, text = await gw.post_raw(body_with(document("http://0x7f.1:8080/admin.pdf")))
        assert_refused(status, text, "messages[0].content[1].source.url", "127.0.0.1 is a loopback address")

        escaped = json.dumps(body_with(image("http://10.0.0.5/x.png"))).replace('"url"', '"\\u0075rl"')
        status, _, text = await gw.post_raw(escaped.encode())
        assert_refused(status, text, "messages[0].content[1].source.url", "private")

        invalid_utf8 = json.dumps(body_with(image("https://1.1.1.1/@.png"))).encode().replace(b"@", b"\xff")
        status, _, text = await gw.post_raw(invalid_utf8)
        assert status == 400, text
        assert json.loads(text)["error"]["message"] == "messages[0].content[1]: not valid UTF-8"

        async with aiohttp.ClientSession() as http:
            async with http.post(
                gw.url + "/v1/messages/count_tokens",
                json={"model": "m", "messages": body_with(image("http://localhost/a.png"))["messages"]},
                headers={"x-api-key": gw.client_key},
            ) as response:
                assert_refused(response.status, await response.text(), "messages[0].content[1].source.url", "localhost")
        assert gw.fake.requests == []


async def test_a_public_url_passes_on_unchanged():
    public = "https://1.1.1.1/images/cat.png?size=large"
    fake = FakeOpenAI([ChatReply("a cat")], dialect="llamacpp")
    async with LLAMACPP.run(fake) as gw:
        status, _, text = await gw.post_raw(body_with(image(public)))
        assert status == 200, text
    parts = fake.chat_requests[0].json["messages"][-1]["content"]
    assert {"type": "image_url", "image_url": {"url": public}} in parts


@pytest.mark.parametrize(
    "allowing",
    [{"LYNKR_URL_ALLOWED_HOSTS": "169.254.169.254"}, {"LYNKR_ALLOW_PRIVATE_URLS": "true"}],
)
async def test_the_operator_can_allow_private_urls(allowing):
    async with ANTHROPIC.run(FakeAnthropic(), **allowing) as gw:
        body = body_with(image(METADATA))
        status, _, text = await gw.post_raw(body)
        assert status == 200, text
        sent = gw.fake.message_requests[0].json
        assert sent["messages"][0]["content"][1] == image(METADATA)
