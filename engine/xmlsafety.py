"""What a BPMN or DMN file may not contain, whatever it would mean: a DOCTYPE (entities, external
DTDs: Camunda 7 refuses any) or an XInclude. The parsers never resolve them, but a file that
relies on them cannot mean what its author reads in it, so it is refused at deploy."""

from __future__ import annotations

from typing import Any

XINCLUDE = "http://www.w3.org/2001/XInclude"


def forbidden_constructs(root: Any) -> list[str]:
    """Messages for each forbidden construct of a parsed (lxml) document, empty when clean."""
    found = []
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        found.append("has a DOCTYPE declaration (entities or an external DTD), which Camunda also refuses: "
                     "remove the <!DOCTYPE ...> part")
    if next(root.iter(f"{{{XINCLUDE}}}*"), None) is not None:
        found.append("uses XInclude, which is never followed: put the content in the file itself")
    return found
