"""``lynkr_security_findings``: a third-party plugin reports its own risky settings to
``lynkr doctor --security``, only while it is enabled; a check that raises is a finding
naming the plugin; the core's admin-key finding names the plugins that serve admin routes."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import ExtraRoute, Finding, Settings
from lynkr_core.plugins import make_plugin_manager
from lynkr_core.security import findings
from lynkr_core.testing.plugins import inline_plugin

SAFE = {"MODEL_PROVIDER": "anthropic", "LYNKR_PLUGINS": "lynkr-provider-anthropic,acme-uploader"}
UPLOAD_FINDING = Finding("ACME_UPLOAD_ANYWHERE=true", "files the model names are uploaded to any host",
                         "unset ACME_UPLOAD_ANYWHERE")


def acme_findings(report: Callable[[Finding], None], settings: Settings, enabled_plugins: frozenset[str]) -> None:
    """What a third party's plugin reports: its own setting, read its own way."""
    if (settings.get("ACME_UPLOAD_ANYWHERE") or "").lower() == "true":
        report(UPLOAD_FINDING)
    if "lynkr-provider-anthropic" in enabled_plugins and settings.get("ACME_NOISY"):
        report(Finding("ACME_NOISY", "logs everything", "unset it"))


def found(env: dict[str, str], plugin: object | None = None) -> list[Finding]:
    settings = Settings(env)
    plugin = plugin if plugin is not None else inline_plugin(hooks={"lynkr_security_findings": acme_findings})
    return findings(settings, make_plugin_manager(settings, plugins=[("acme-uploader", plugin)]))


def test_a_third_party_plugin_reports_its_own_finding():
    assert found(SAFE) == []
    assert found({**SAFE, "ACME_UPLOAD_ANYWHERE": "true"}) == [UPLOAD_FINDING]
    noisy = found({**SAFE, "ACME_UPLOAD_ANYWHERE": "true", "ACME_NOISY": "1"})
    assert [f.setting for f in noisy] == ["ACME_UPLOAD_ANYWHERE=true", "ACME_NOISY"]


def test_its_findings_come_after_the_cores():
    risky = found({**SAFE, "ACME_UPLOAD_ANYWHERE": "true", "LYNKR_ALLOW_PRIVATE_URLS": "true"})
    assert [f.setting for f in risky] == ["LYNKR_ALLOW_PRIVATE_URLS=true", "ACME_UPLOAD_ANYWHERE=true"]


def test_a_plugin_that_is_not_enabled_reports_nothing():
    assert found({**SAFE, "ACME_UPLOAD_ANYWHERE": "true", "LYNKR_DISABLE_PLUGINS": "acme-uploader"}) == []
    assert found({**SAFE, "LYNKR_PLUGINS": "lynkr-provider-anthropic", "ACME_UPLOAD_ANYWHERE": "true"}) == []


def test_a_check_that_raises_is_a_finding_naming_the_plugin():
    def broken(report, settings):
        raise ValueError("ACME_UPLOAD_ANYWHERE must be true or false")

    risky = found(SAFE, inline_plugin(hooks={"lynkr_security_findings": broken}))
    assert len(risky) == 1
    assert risky[0].setting.startswith("acme-uploader: its security check failed (ValueError: ACME_UPLOAD")
    assert "LYNKR_DISABLE_PLUGINS" in risky[0].fix


def test_the_admin_key_finding_names_the_plugins_with_admin_routes():
    async def endpoint(request):
        raise AssertionError("never served here")

    admin = inline_plugin(routes=[ExtraRoute("/v1/acme/uploads", endpoint, admin=True)])
    risky = found(SAFE, admin)
    assert [f.setting for f in risky] == ["LYNKR_ADMIN_KEYS is not set"]
    assert "the admin routes of acme-uploader answer nobody" in risky[0].risk
    assert found({**SAFE, "LYNKR_ADMIN_KEYS": "admin-key-0123456789abcdef"}, admin) == []
    public = inline_plugin(routes=[ExtraRoute("/acme/status", endpoint)])
    assert found(SAFE, public) == []
