"""Dash ``html`` components written out as plain HTML, for a page's first frame.

The home page's header and map are in the page's HTML itself (:mod:`dashboard.pages.home.first`),
so the browser shows them and the map starts before Dash has loaded and rendered the page;
they are the same components Dash renders a moment later, written out here. Only ``html``
components can be: a ``dcc`` component is drawn by its React code, and is refused.
"""
from __future__ import annotations

import re
from html import escape

from dash.development.base_component import Component

#: Dash's prop names that are not the HTML attribute's.
ATTRIBUTES = {"className": "class", "htmlFor": "for"}
#: Props of Dash's own, not the element's.
DASH_PROPS = {"n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state", "setProps"}
#: Elements without a closing tag.
VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}
#: Dash's names of elements whose tag is not its type in lower case.
TAGS = {"MapEl": "map", "ObjectEl": "object"}


def _css(style: dict) -> str:
    return "; ".join(_kebab(k) + f": {v}" for k, v in style.items())


def _kebab(name: str) -> str:
    return re.sub(r"([A-Z])", r"-\1", name).lower()


def to_html(node, *, ids: bool = False) -> str:
    """``node`` (a component, a list of them, text or a number) as HTML.

    ``ids``: keep the components' ids (by default left out: the page's first frame is
    replaced by Dash's render of the same components, and an id must stay unique).

    Raises ``ValueError`` for a component that is not one of Dash's ``html`` elements.
    """
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, (str, int, float)):
        return escape(str(node), quote=False)
    if isinstance(node, (list, tuple)):
        return "".join(to_html(n, ids=ids) for n in node)
    if not isinstance(node, Component) or node._namespace != "dash_html_components":
        raise ValueError(f"{type(node).__name__} has no static HTML: only dash.html components have")
    tag = TAGS.get(node._type, node._type.lower())
    attrs = []
    for name, value in sorted(node.to_plotly_json()["props"].items()):  # Dash's order varies between runs
        if name == "children" or name in DASH_PROPS or value is None or (name == "id" and not ids):
            continue
        if name == "style":
            value = _css(value)
        elif isinstance(value, bool):
            if value:
                attrs.append(f" {ATTRIBUTES.get(name, name)}")
            continue
        attrs.append(f' {ATTRIBUTES.get(name, name)}="{escape(str(value))}"')
    opening = f"<{tag}{''.join(attrs)}>"
    if tag in VOID:
        return opening
    return f"{opening}{to_html(getattr(node, 'children', None), ids=ids)}</{tag}>"
