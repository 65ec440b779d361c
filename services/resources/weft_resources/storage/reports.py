"""Reports and the moderation queue.

`reports`: one document per report (who reported what, why). `moderation_cases`: one
document per reported piece of content, the queue's entry: its open reports' count,
reasons and times, written in the report's transaction. Two reports of one content
write its case, so two at once conflict and one retries: that is what keeps one open
report per person per content without a unique index (which secantusd-rs never frees,
docs/secantusdb.md item 14)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session

OPEN, CLOSED = "open", "closed"


class Reports:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.reports: AsyncCollection[Doc] = db.reports
        self.cases: AsyncCollection[Doc] = db.moderation_cases

    async def create_indexes(self) -> None:
        # A person's open report of one content; a page of cases' open reports ($in last).
        await self.reports.create_index([("state", ASCENDING), ("case_id", ASCENDING), ("reporter_id", ASCENDING)])
        # A community's queue, oldest first (`queue_key`: an ObjectId string made when the case opened).
        await self.cases.create_index([("community_id", ASCENDING), ("open", ASCENDING), ("queue_key", ASCENDING)])

    async def open_report_of(self, case_id: str, reporter_id: str) -> Doc | None:
        query = {"state": OPEN, "case_id": case_id, "reporter_id": reporter_id}
        return await self.reports.find_one(query, session=current_session())

    async def add(self, report: Doc) -> None:
        """Store `report` and count it in its content's case (opening the case anew when
        its earlier reports were closed)."""
        session = current_session()
        await self.reports.insert_one(report, session=session)
        case_id, at, reason = report["case_id"], report["created_at"], report["reason"]
        case = await self.cases.find_one({"_id": case_id}, projection={"open": 1}, session=session)
        if case is not None and case.get("open"):
            change: Doc = {"$inc": {"open_reports": 1, f"reasons.{reason}": 1}, "$set": {"last_reported_at": at}}
        else:
            fresh = {
                "community_id": report["community_id"],
                "content": report["content"],
                "open": True,
                "queue_key": report["_id"],
                "open_reports": 1,
                "reasons": {reason: 1},
                "first_reported_at": at,
                "last_reported_at": at,
            }
            change = {"$set": fresh}
        await self.cases.update_one({"_id": case_id}, change, upsert=True, session=session)

    async def close_case(self, case_id: str, *, closed_by: str, outcome: str, at: datetime) -> int:
        """Close every open report of one content; how many were open."""
        session = current_session()
        closing = {"state": CLOSED, "closed_by": closed_by, "closed_at": at, "outcome": outcome}
        result = await self.reports.update_many({"state": OPEN, "case_id": case_id}, {"$set": closing}, session=session)
        if result.modified_count:
            await self.cases.update_one(
                {"_id": case_id}, {"$set": {"open": False, "open_reports": 0, "reasons": {}}}, session=session
            )
        return result.modified_count

    async def queue_page(self, community_id: str, *, after: str | None, limit: int) -> list[Doc]:
        """Open cases, oldest first; `limit + 1` of them to tell whether a next page exists."""
        query: Doc = {"community_id": community_id, "open": True}
        if after is not None:
            query["queue_key"] = {"$gt": after}
        cursor = self.cases.find(query, session=current_session()).sort([("queue_key", ASCENDING)])
        return await cursor.limit(limit + 1).to_list()

    async def open_reports_of(self, case_ids: list[str]) -> list[Doc]:
        """The open reports of these cases, oldest first."""
        if not case_ids:
            return []
        query = {"state": OPEN, "case_id": {"$in": case_ids}}
        docs = await self.reports.find(query, session=current_session()).to_list()
        return sorted(docs, key=lambda d: (d["created_at"], d["_id"]))
