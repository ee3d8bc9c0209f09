"""lynkr dashboard: a live web dashboard served by lynkr, behind the admin key.

``/dashboard`` is a static page (HTML, JS, CSS shipped in this package) that asks for
the admin key and reads ``/v1/dashboard/overview`` plus other plugins' admin routes
(``/v1/sessions``, ``/v1/usage``) from the browser. Its own data comes from an exchange
observer kept in memory.
"""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import ExchangeObserver, ExtraRoute, Settings, hookimpl
from lynkr_dashboard import assets, routes
from lynkr_dashboard.observer import observer_for


@hookimpl
def lynkr_register_observers(register: Callable[[ExchangeObserver], None], settings: Settings) -> None:
    """The observer that feeds the dashboard."""
    register(observer_for(settings))


@hookimpl
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """The page (public: it holds no data), its data (admin), and the local status route."""
    feed = observer_for(settings).feed
    register(ExtraRoute("/dashboard", assets.page, name="dashboard", public=True))
    register(ExtraRoute("/dashboard/assets/{name}", assets.asset, name="dashboard-asset", public=True))
    register(ExtraRoute("/v1/dashboard/overview", routes.overview(feed), name="dashboard-overview",
                        admin=True))
    register(ExtraRoute("/v1/dashboard/status", routes.status(feed), name="dashboard-status"))
