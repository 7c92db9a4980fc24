"""Helpers for the chart tests: the figures a dashboard page embeds, read back from its HTML."""

from __future__ import annotations

import base64
import json
import re

import numpy as np

FIGURE = re.compile(r'<script type="application/json" class="figure-data" data-target="fig-([\w-]+)">(.*?)</script>',
                    re.S)  # fmt: skip


def figures(html: str) -> dict[str, dict]:
    """``{name: plotly figure dict}`` for every chart of a page (the JSON the browser draws)."""
    return {name: json.loads(body) for name, body in FIGURE.findall(html)}


def page_figures(client, url: str) -> dict[str, dict]:
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    return figures(response.text)


def title(figure: dict) -> str:
    text = figure["layout"]["title"]
    return text["text"] if isinstance(text, dict) else text


def axis_title(axis: dict) -> str:
    text = axis.get("title", "")
    return text.get("text", "") if isinstance(text, dict) else text


def values(array) -> list:
    """A figure array as a list: plotly writes numeric arrays as typed ``{"dtype", "bdata"}`` objects."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)
