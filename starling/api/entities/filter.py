"""Mastodon's Filter, FilterKeyword, FilterStatus and FilterResult (v2), and the v1 Filter view."""

from __future__ import annotations

from starling import clock
from starling.safety.filters import ActiveFilter, FilterResult
from starling.safety.models import FilterKeyword, FilterStatus


def keyword_entity(keyword: FilterKeyword) -> dict:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": bool(keyword.whole_word)}


def filter_status_entity(entry: FilterStatus) -> dict:
    return {"id": str(entry.id), "status_id": str(entry.status_id)}


def filter_entity(f: ActiveFilter) -> dict:
    return {
        "id": str(f.row.id),
        "title": f.row.title,
        "context": list(f.row.contexts or []),
        "expires_at": clock.iso(f.row.expires_at),
        "filter_action": f.row.action,
        "keywords": [keyword_entity(k) for k in f.keywords],
        "statuses": [filter_status_entity(s) for s in f.statuses],
    }


def filter_result_entity(result: FilterResult) -> dict:
    return {"filter": filter_entity(result.filter), "keyword_matches": result.keyword_matches,
            "status_matches": result.status_matches}


def v1_filter_entity(f: ActiveFilter, keyword: FilterKeyword) -> dict:
    return {"id": str(keyword.id), "phrase": keyword.keyword, "context": list(f.row.contexts or []),
            "whole_word": bool(keyword.whole_word), "expires_at": clock.iso(f.row.expires_at),
            "irreversible": f.row.action == "hide"}


def annotate(entities: list[dict], results: dict[int, list[FilterResult]]) -> list[dict]:
    """Put each warn match in its status entity's `filtered` (and a boost's inner status's), in place."""
    if not results:
        return entities
    for entity in entities:
        found = results.get(int(entity["id"]))
        if found:
            rendered = [filter_result_entity(r) for r in found]
            entity["filtered"] = rendered
            if entity.get("reblog"):
                entity["reblog"]["filtered"] = rendered
    return entities
