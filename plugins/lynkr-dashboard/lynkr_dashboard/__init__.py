"""lynkr dashboard: a live web dashboard served by lynkr, behind the admin key."""
