"""What lynkr says when its configuration cannot answer yet, and how to fix it.

Two cases: a provider the settings name (``MODEL_PROVIDER``, a route,
``FALLBACK_PROVIDER``) that no installed plugin registers, and a registered
provider with settings missing (``Provider.missing_settings``). Either way the
server still starts, so that health checks answer and the message is seen: it
is logged and printed at start, ``/ready`` answers 503 with it, and requests
get it as a 500 ``api_error``. Provider names are never written here: the
extra to install comes from the installed distribution's metadata.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Iterable, Sequence
from email.message import Message

#: The distribution whose ``provider-<name>`` extras install the bundled provider plugins.
DISTRIBUTION = "lynkr-gateway"

#: Where settings may be written, for messages that ask for one.
WHERE = "in the environment, .env or lynkr.toml"

Metadata = Callable[[str], Message]


def extra_for(provider: str) -> str:
    """The extra that installs ``provider``: ``provider-<name>``, normalised as pip does (PEP 685)."""
    return "provider-" + re.sub(r"[-_.]+", "-", provider).lower()


def install_hint(provider: str, metadata: Metadata = importlib.metadata.metadata) -> str:
    """How to install the plugin that provides ``provider``: the ``pip install`` of its extra
    when the installed ``lynkr-gateway`` declares one, otherwise a pointer to ``lynkr plugins``."""
    try:
        extras = metadata(DISTRIBUTION).get_all("Provides-Extra") or []
    except importlib.metadata.PackageNotFoundError:
        extras = []
    extra = extra_for(provider)
    if extra in extras:
        return f"install it with: pip install '{DISTRIBUTION}[{extra}]'"
    return "install the plugin that provides it (lynkr plugins lists what is installed)"


def unregistered_message(
    setting: str, provider: str, installed: Iterable[str], metadata: Metadata = importlib.metadata.metadata
) -> str:
    """``setting`` names ``provider``, which no installed plugin registers: what to install,
    and which providers are installed."""
    subject = f"{setting}={provider}" if setting == "MODEL_PROVIDER" else f"{setting} names provider {provider!r}"
    listed = ", ".join(sorted(installed)) or "none"
    return (
        f"{subject}, but no installed plugin provides it; {install_hint(provider, metadata)}; "
        f"installed providers: {listed}"
    )


def not_configured_message(provider: str, missing: Sequence[str], *, default: bool) -> str:
    """``provider`` cannot answer until ``missing`` are set; ``default``: it is ``MODEL_PROVIDER``'s
    (then ``lynkr init`` can write them)."""
    needed = ", ".join(missing)
    if default:
        return f"MODEL_PROVIDER={provider} is not configured: set {needed} ({WHERE}), or run: lynkr init"
    return f"provider {provider} is not configured: set {needed} ({WHERE})"


def first_unregistered(
    named: Iterable[tuple[str, str]], registered: Iterable[str], metadata: Metadata = importlib.metadata.metadata
) -> str | None:
    """The message for the first ``(setting, provider)`` of ``named`` whose provider is not
    ``registered``; ``None`` when every one is."""
    known = set(registered)
    for setting, provider in named:
        if provider not in known:
            return unregistered_message(setting, provider, known, metadata)
    return None
