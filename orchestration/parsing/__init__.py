"""The page parser: a pure function from HTML bytes (and the reference data passed in) to typed
records with their source text."""

from .page import HISTORICAL, LIVE, Requirements, parse_page
from .records import (
    PARSER_VERSION,
    Commander,
    EventMention,
    ParsedPage,
    ParseError,
    Section,
    TroopFigure,
)
from .reference import Reference

__all__ = ["HISTORICAL", "LIVE", "PARSER_VERSION", "Commander", "EventMention", "ParseError",
           "ParsedPage", "Reference", "Requirements", "Section", "TroopFigure", "parse_page"]
