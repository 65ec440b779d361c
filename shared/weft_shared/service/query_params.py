"""A query parameter that takes one value, sent twice (`limit=1&limit=2`), is refused:
FastAPI would silently use the last one, and a proxy or a cache may read the first.

Installed as an app-wide dependency (`create_service_app`), so every route of every
service answers the same 422 naming the parameter.
"""

from __future__ import annotations

import collections.abc
import types
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from weft_shared.errors import Problem

_SEQUENCES = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set)


def _takes_many(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_many(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return origin in _SEQUENCES or annotation in _SEQUENCES


def _single_valued(dependant: Dependant) -> set[str]:
    names = {f.alias for f in dependant.query_params if not _takes_many(f.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _single_valued(sub)
    return names


async def refuse_repeated_query_parameters(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    query = request.query_params
    if len(query.multi_items()) == len(query):
        return  # nothing repeated: the common case costs one comparison
    repeated = sorted(name for name in _single_valued(route.dependant) if len(query.getlist(name)) > 1)
    if repeated:
        errors = [
            {"field": name, "message": f"{name} takes one value; it was sent more than once"} for name in repeated
        ]
        raise Problem(f"repeated query parameter: {', '.join(repeated)}", status=422, errors=errors)
