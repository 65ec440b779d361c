"""Prometheus metrics: one registry per process, served at `/metrics`.

`ProcessMetrics` owns the registry and the HTTP metrics; the other modules add
what a part of the process knows (the consumer, the outbox, the dead-letter
stream). Values that live elsewhere (JetStream, the database) are read when
scraped, by refreshers that never fail the scrape.
"""

from weft_shared.metrics.endpoint import install_metrics
from weft_shared.metrics.http import HttpMetricsMiddleware
from weft_shared.metrics.process import ProcessMetrics

__all__ = ["HttpMetricsMiddleware", "ProcessMetrics", "install_metrics"]
