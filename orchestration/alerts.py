"""Webhook alerts (KFOR_WEBHOOK_URL): a JSON POST per failed or rejected refresh. An alert that
cannot be delivered is logged, never raised: alerting must not turn a clear failure into a crash."""

from __future__ import annotations

import json
import logging
import urllib.request

from . import paths

log = logging.getLogger("kfor")


def send_alert(payload: dict, url: str | None = None, timeout: float = 5.0) -> bool:
    url = url or paths.webhook_url()
    if not url:
        return False
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError as e:
        log.warning("could not deliver the alert to %s: %s", url, e)
        return False
