"""Constants of the capture tests: the page's URL and the parser's reference data."""

from __future__ import annotations

from orchestration.core.reference import load_reference

PAGE_URL = "https://www.nato.int/cps/en/natohq/topics_48818.htm"
REFERENCE = load_reference()
