"""JSON bodies: decimals as numbers, dates and times as ISO-8601 (Flask's default writes HTTP dates)."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import JSONProvider

from engine.decisions.jsonvalue import dumps as dumps_value


class PathwayJSONProvider(JSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps_value(obj)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s)
