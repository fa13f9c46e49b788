"""The page parser: a pure function from HTML bytes to typed records with their source text."""

from .page import parse_page
from .records import (
    PARSER_VERSION,
    Commander,
    EventMention,
    ParsedPage,
    ParseError,
    Section,
    TroopFigure,
)

__all__ = ["PARSER_VERSION", "Commander", "EventMention", "ParseError", "ParsedPage", "Section",
           "TroopFigure", "parse_page"]
