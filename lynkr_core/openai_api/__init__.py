"""OpenAI-format clients served through the core's pipeline.

Chat Completions (``/v1/chat/completions``), the Responses API (``/v1/responses``)
and embeddings (``/v1/embeddings``). Each route translates the client's request
into the core's Anthropic request, runs the very pipeline ``/v1/messages`` runs
(policies, preparers, interceptors, routing, failover, server tools, the
exchange record), and translates the answer, JSON or event stream, back. The
translators are pure functions and small classes, one module each; ``routes``
holds the HTTP endpoints.
"""
