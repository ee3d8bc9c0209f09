"""lynkr metrics: Prometheus metrics at /metrics from the exchange record."""
