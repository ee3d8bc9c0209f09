"""``health_checks`` on registered objects: what ``lynkr doctor`` reports besides the upstream."""

from __future__ import annotations

from lynkr_core import HealthCheck, ModelClient, RequestPreparer, Services, Settings, ToolSource
from lynkr_core.health import health_reports
from lynkr_core.plugins import make_plugin_manager
from lynkr_core.registered import Registered
from lynkr_core.testing.plugins import inline_plugin


class Servers(ToolSource):
    name = "servers"

    def __init__(self) -> None:
        self.started = False

    async def start(self, services):
        self.started = True

    async def list_tools(self):
        return []

    async def health_checks(self, services):
        folder = services.data_dir("servers")
        return {"server a": HealthCheck(True, f"ready in {folder.name}"), "server b": HealthCheck(False, "gone")}


class Broken(RequestPreparer):
    name = "broken"

    async def prepare(self, request, context):
        return None

    def health_checks(self, services):
        raise RuntimeError("cannot tell")


class Silent(Broken):
    name = "silent"
    health_checks = None


async def test_every_objects_checks_are_reported_with_its_plugin_without_starting_it(tmp_path):
    settings = Settings({"LYNKR_HOME": str(tmp_path)})
    servers = Servers()
    plugins = [("one", inline_plugin(tool_sources=[servers])),
               ("two", inline_plugin(preparers=[Broken(), Silent()]))]
    pm = make_plugin_manager(settings, load_entry_points=False, plugins=plugins)
    registered = Registered(settings, pm)

    async def send(request, purpose):
        raise AssertionError("not used")

    services = Services(settings, None, ModelClient(send))  # type: ignore[arg-type]
    reports = await health_reports(registered, services)

    found = {(r.plugin, r.label): (r.check.ok, r.check.detail) for r in reports}
    assert found[("one", "server a")] == (True, "ready in servers")
    assert found[("one", "server b")] == (False, "gone")
    assert found[("two", "preparer broken")] == (False, "health check raised RuntimeError: cannot tell")
    assert len(reports) == 3
    assert not servers.started
