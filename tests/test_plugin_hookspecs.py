"""Hooks that plugins define for other plugins (``lynkr_hookspecs``): declared before any
plugin registers, validated against their implementations, reachable through
``Services.hook_calls``, and harmless when the defining plugin is not installed."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest

from lynkr_core import Services, Settings, hookimpl, hookspec
from lynkr_core.plugins import make_plugin_manager
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving


class WidgetSpecs:
    """The hooks the ``widgets`` plugin defines."""

    @hookspec
    def lynkr_register_widgets(self, register: Callable[[str], None], settings: Settings) -> None:
        """Register widget names."""


def definer(seen: list[tuple[str, str]] | None = None) -> SimpleNamespace:
    """A plugin that defines ``lynkr_register_widgets`` and, at start-up, collects the widgets."""

    def lynkr_startup(app, settings, services: Services):
        for call in services.hook_calls("lynkr_register_widgets"):
            call(register=lambda widget, plugin=call.plugin: seen.append((plugin, widget)), settings=settings)

    plugin = inline_plugin(hooks={"lynkr_startup": lynkr_startup})
    plugin.lynkr_hookspecs = WidgetSpecs
    return plugin


def implementer(*widgets: str, optional: bool = True) -> SimpleNamespace:
    @hookimpl(optionalhook=optional)
    def lynkr_register_widgets(register, settings):
        for widget in widgets:
            register(widget)

    return SimpleNamespace(lynkr_register_widgets=lynkr_register_widgets)


def manager(*plugins: tuple[str, object]):
    return make_plugin_manager(Settings({}), load_entry_points=False, plugins=plugins)


def test_an_implementer_loaded_before_the_defining_plugin_is_validated_and_called():
    pm = manager(("gears", implementer("cog", optional=False)), ("widgets", definer()))
    assert pm.enabled_names() == ["gears", "widgets"]
    calls = pm.hook_calls("lynkr_register_widgets")
    assert [call.plugin for call in calls] == ["gears"]
    got: list[str] = []
    calls[0](register=got.append, settings=Settings({}), unused="ignored")
    assert got == ["cog"]


def test_an_optional_implementation_loads_without_the_defining_plugin():
    pm = manager(("gears", implementer("cog")))
    assert pm.statuses["gears"].enabled
    assert pm.hook_calls("lynkr_no_such_hook") == []
    # without optionalhook, the same implementation is an unknown hook of its plugin
    strict = manager(("gears", implementer("cog", optional=False)))
    assert "unknown hook 'lynkr_register_widgets'" in strict.statuses["gears"].reason


def test_an_implementation_with_wrong_arguments_fails_its_own_plugin():
    @hookimpl(optionalhook=True)
    def lynkr_register_widgets(register, colour):
        pass

    pm = manager(("widgets", definer()), ("bad", SimpleNamespace(lynkr_register_widgets=lynkr_register_widgets)))
    assert pm.statuses["widgets"].enabled
    assert "colour" in pm.statuses["bad"].reason and not pm.statuses["bad"].enabled


def test_a_plugin_defining_a_hook_that_exists_fails():
    class Clash:
        @hookspec
        def lynkr_register_tools(self, register, settings):
            """Taken by the core."""

    pm = manager(("clash", SimpleNamespace(lynkr_hookspecs=Clash)), ("other", implementer("cog")))
    assert pm.statuses["clash"].reason.startswith("failed: lynkr_hookspecs: ValueError")
    assert pm.statuses["other"].enabled


def test_the_same_specs_named_by_two_plugins_are_added_once():
    pm = manager(("a", definer()), ("b", SimpleNamespace(lynkr_hookspecs=(WidgetSpecs,))))
    assert pm.enabled_names() == ["a", "b"]


@pytest.mark.parametrize("order", ["implementer first", "definer first"])
async def test_a_plugin_calls_the_hook_it_defines_through_services(order):
    seen: list[tuple[str, str]] = []
    plugins = [("gears", implementer("cog", "sprocket")), ("wheels", implementer("rim")),
               ("widgets", definer(seen))]
    if order == "definer first":
        plugins.reverse()
    app = make_test_app({"MODEL_PROVIDER": "none"}, plugins=plugins, load_entry_points=False)
    async with serving(app):
        assert app.state.services.hook_calls("lynkr_register_widgets")
    expected = {("gears", "cog"), ("gears", "sprocket"), ("wheels", "rim")}
    assert set(seen) == expected and len(seen) == 3
    # hook order: the plugin registered last is called first
    assert seen[0][0] == ("wheels" if order == "implementer first" else "gears")
    assert Services(settings=Settings({}), http=None, model=None).hook_calls("lynkr_register_widgets") == []  # type: ignore[arg-type]
