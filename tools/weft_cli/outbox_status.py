"""`weft outbox status`: per service database, the outbox records not yet published.

A healthy relay publishes right after each commit, so records older than a few seconds
mean NATS was away, a process crashed between commit and publish, or the relay is stuck.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from weft_shared.messaging.outbox import OUTBOX

Echo = Callable[[str], None]


async def outbox_report(mongodb_url: str, databases: dict[str, str]) -> dict[str, dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, tz_aware=True, serverSelectionTimeoutMS=3000, appname="weft-outbox-status"
    )
    try:
        await client.admin.command("ping")
        now = datetime.now(UTC)
        report: dict[str, dict[str, Any]] = {}
        for service, name in databases.items():
            records = client[name][OUTBOX]
            pending = await records.count_documents({})
            oldest = await records.find_one({}, sort=[("created_at", 1)], projection={"created_at": 1})
            by_type: dict[str, int] = {}
            cursor = await records.aggregate(
                [{"$group": {"_id": {"$arrayElemAt": [{"$split": ["$aggregate", "/"]}, 0]}, "n": {"$sum": 1}}}]
            )
            async for row in cursor:
                by_type[str(row["_id"])] = int(row["n"])
            age = (now - oldest["created_at"]).total_seconds() if oldest and oldest.get("created_at") else None
            report[service] = {
                "database": name,
                "pending": pending,
                "oldest_age_seconds": round(age, 1) if age is not None else None,
                "by_aggregate_type": dict(sorted(by_type.items())),
            }
        return report
    finally:
        await client.close()


def print_outbox_report(report: dict[str, dict[str, Any]], echo: Echo, *, as_json: bool) -> None:
    if as_json:
        echo(json.dumps(report, indent=2))
        return
    echo(f"{'service':<14} {'database':<28} {'pending':>7} {'oldest':>9}  by aggregate type")
    for service, row in report.items():
        oldest = "-" if row["oldest_age_seconds"] is None else f"{row['oldest_age_seconds']:.0f}s"
        types = ", ".join(f"{kind} {n}" for kind, n in row["by_aggregate_type"].items()) or "-"
        echo(f"{service:<14} {row['database']:<28} {row['pending']:>7} {oldest:>9}  {types}")
