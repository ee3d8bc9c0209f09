"""``POST /v1/embeddings`` with the official ``openai`` SDK: the main provider when it can
embed, ``EMBEDDINGS_PROVIDER`` otherwise, and a clear 400 when no provider can."""

from __future__ import annotations

import tempfile

import openai
import pytest

from lynkr_core.testing.fake_embeddings import FakeEmbeddings, vector_for
from lynkr_core.testing.server import make_test_app, serving

KEY = "client-key-for-lynkr"


def empty_workspace() -> str:
    """An empty workspace for the lynkr under test."""
    return tempfile.mkdtemp(prefix="lynkr-workspace-")
TEXTS = ["def add(a, b): return a + b", "hello world"]


async def _embed(env: dict[str, str], **options):
    async with FakeEmbeddings() as fake:
        settings = {name: value.replace("{base}", fake.base_url) for name, value in env.items()}
        app = make_test_app({"LYNKR_API_KEYS": KEY, "TOOL_EXECUTION_MODE": "client", "WORKSPACE_ROOT": empty_workspace(),
                             **settings})
        async with serving(app) as url:
            async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0) as client:
                answer = await client.embeddings.create(input=TEXTS, **options)
        return answer, fake.requests


@pytest.mark.parametrize(
    ("env", "path", "model"),
    [
        ({"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": "{base}/v1/chat/completions", "OPENAI_API_KEY": "sk-up"},
         "/v1/embeddings", "text-embedding-3-small"),
        ({"MODEL_PROVIDER": "openrouter", "OPENROUTER_ENDPOINT": "{base}/api/v1/chat/completions",
          "OPENROUTER_API_KEY": "sk-up"}, "/api/v1/embeddings", "openai/text-embedding-3-small"),
        ({"MODEL_PROVIDER": "azure-openai", "AZURE_OPENAI_ENDPOINT": "{base}", "AZURE_OPENAI_API_KEY": "sk-up",
          "AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT": "embedder"}, "/openai/deployments/embedder/embeddings", "embedder"),
        ({"MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": "{base}"}, "/v1/embeddings", None),
        ({"MODEL_PROVIDER": "ollama", "OLLAMA_ENDPOINT": "{base}"}, "/api/embed", "nomic-embed-text"),
    ],
    ids=["openai", "openrouter", "azure-openai", "llamacpp", "ollama"],
)
async def test_the_main_provider_embeds(env, path, model):
    answer, requests = await _embed(env, model="text-embedding-3-small")
    assert [item.embedding for item in answer.data] == [vector_for(text) for text in TEXTS]
    assert [item.index for item in answer.data] == [0, 1]
    assert answer.usage.prompt_tokens == 9
    assert [r.path for r in requests] == [path]
    assert requests[0].json["input"] == TEXTS
    if model is not None:
        assert requests[0].json["model"] == model
    if "azure" in path or "deployments" in path:
        assert requests[0].headers["api-key"] == "sk-up" and requests[0].query["api-version"]
    elif "ollama" not in env["MODEL_PROVIDER"] and "llamacpp" not in env["MODEL_PROVIDER"]:
        assert requests[0].headers["authorization"] == "Bearer sk-up"


async def test_floats_are_sent_when_asked_and_dimensions_passed_on():
    env = {"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": "{base}/v1/chat/completions", "OPENAI_API_KEY": "k"}
    answer, requests = await _embed(env, model="m", encoding_format="float", dimensions=6)
    assert answer.data[0].embedding == vector_for(TEXTS[0], 6)
    assert requests[0].json["dimensions"] == 6


async def test_embeddings_provider_serves_when_the_main_provider_cannot_embed():
    env = {"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_API_KEY": "k",
           "EMBEDDINGS_PROVIDER": "ollama", "OLLAMA_ENDPOINT": "{base}"}
    answer, requests = await _embed(env, model="text-embedding-3-small")
    assert [item.embedding for item in answer.data] == [vector_for(text) for text in TEXTS]
    assert requests[0].path == "/api/embed"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_API_KEY": "k"}, "MODEL_PROVIDER=anthropic cannot embed"),
        ({"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_API_KEY": "k", "EMBEDDINGS_PROVIDER": "anthropic"},
         "this provider cannot embed"),
        ({"MODEL_PROVIDER": "openai", "EMBEDDINGS_PROVIDER": "nope"}, "no such provider"),
    ],
)
async def test_no_provider_that_can_embed_is_a_clear_400(env, says):
    with pytest.raises(openai.BadRequestError) as caught:
        await _embed(env, model="m")
    assert says in caught.value.body["message"]
    assert "ollama" in caught.value.body["message"]  # names the providers that can
    assert caught.value.body["type"] == "invalid_request_error"


async def test_an_upstream_error_keeps_its_status():
    async with FakeEmbeddings(status=503) as fake:
        app = make_test_app({"LYNKR_API_KEYS": KEY, "TOOL_EXECUTION_MODE": "client",
                             "WORKSPACE_ROOT": empty_workspace(), "MODEL_PROVIDER": "ollama",
                             "OLLAMA_ENDPOINT": fake.base_url})
        async with serving(app) as url:
            async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0) as client:
                with pytest.raises(openai.APIStatusError) as caught:
                    await client.embeddings.create(input="x", model="m")
    assert caught.value.status_code == 503
    assert "scripted embeddings failure" in caught.value.body["message"]
