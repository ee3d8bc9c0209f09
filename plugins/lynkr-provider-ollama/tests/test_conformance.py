"""lynkr-provider-ollama shows every behaviour of the provider conformance suite (the
profile is conftest's ``provider_profile``)."""

from lynkr_core.testing.conformance import ProviderConformance


class TestConformance(ProviderConformance):
    """The shared suite, against FakeOllama."""
