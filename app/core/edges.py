"""What the web edge refuses before a view runs, so odd input is a 4xx and never a 500.

JSON bodies: the standard decoder recurses once per nested array or object, so a body such as
``[[[[…`` five thousand deep raises RecursionError, which Flask does not treat as bad JSON (it
catches ValueError) and so answered 500. Here it is a ValueError like any other malformed body.
Ids in urls: a number past 64 bits reached the database driver, which refused it with a 500.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

#: Row ids are 64-bit signed: a larger number in a url names nothing.
MAX_ROW_ID = 2**63 - 1


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, whose decoding turns RecursionError into ValueError."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode `s`, refusing nesting too deep to decode as malformed JSON."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class RowIdConverter(IntegerConverter):
    """``<int:…>`` that matches only ids a row can have, so ``/x/9223372036854775808`` is a 404.

    Without the bound the number reached the database driver, which refused it with a 500.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)
