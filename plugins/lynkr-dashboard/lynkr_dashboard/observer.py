"""The exchange observer that feeds the dashboard, and how the routes of the same app find it."""

from __future__ import annotations

import weakref

from lynkr_core import Exchange, ExchangeObserver, Settings
from lynkr_dashboard.config import load_settings
from lynkr_dashboard.feed import Feed


class DashboardObserver(ExchangeObserver):
    """Adds every finished exchange to the dashboard's ``Feed`` (in memory, bounded)."""

    name = "lynkr-dashboard"

    def __init__(self, feed: Feed) -> None:
        self.feed = feed

    def exchange_finished(self, exchange: Exchange) -> None:
        """Record the exchange: cheap, in-memory bookkeeping only."""
        self.feed.record(exchange)


#: One observer per app: the app's registration hooks all receive that app's ``Settings``
#: object, so the routes and the observer of one app share a feed, and two apps in one
#: process (as tests build them) never do. Weak keys: a feed goes with its settings.
_observers: weakref.WeakKeyDictionary[Settings, DashboardObserver] = weakref.WeakKeyDictionary()


def observer_for(settings: Settings) -> DashboardObserver:
    """The dashboard observer of the app being built with ``settings``."""
    observer = _observers.get(settings)
    if observer is None:
        observer = _observers[settings] = DashboardObserver(Feed(load_settings(settings)))
    return observer
