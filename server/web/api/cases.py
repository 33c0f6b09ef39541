"""Investment cases, approval items and clock suspensions over JSON (rules in server.services.cases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from server.domain.roles import Role
from server.services.case_schemas import (
    CaseChanges,
    CaseDetail,
    CasePage,
    CaseQuery,
    ItemChanges,
    ItemOut,
    NewCase,
    NewItem,
    NewSuspension,
    Resumption,
)
from server.services.cases import CaseDesk, CaseError
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError

MANAGERS = {Role.ADMIN, Role.CHAIR}
# Chief representatives reach item writes; the service then admits only the item's own department.
ITEM_ACTORS = {Role.ADMIN, Role.CHAIR, Role.CHIEF_REP}
TAG = "cases"


def desk(call: Call) -> CaseDesk:
    return CaseDesk(call.db, call.principal, context(call.request).settings.centre.promised_limits)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the service's CaseError into the API's error shape, naming the field (and for a
    project code the segment) so a client can mark it."""
    try:
        yield
    except CaseError as exc:
        details = []
        if exc.field:
            detail = {"field": exc.field, "message": exc.message or ""}
            if exc.segment:
                detail["segment"] = exc.segment
            details.append(detail)
        raise ApiError(exc.status, exc.message, details=details) from None


@API.route("GET", "/cases", summary="List visible cases with their clocks (filters, paging)",
           query=CaseQuery, response=CasePage, tag=TAG)
async def list_cases(call: Call) -> CasePage:
    return await desk(call).page(call.query)


@API.route("GET", "/cases/{id}", summary="One case: fields, items with clocks, meetings covering it",
           response=CaseDetail, tag=TAG)
async def get_case(call: Call) -> CaseDetail:
    with refusals():
        return await desk(call).detail(call.path_int("id"))


@API.route("POST", "/cases", summary="Register a case (chair, admin)", roles=MANAGERS, body=NewCase,
           response=CaseDetail, status=201, tag=TAG)
async def create_case(call: Call) -> CaseDetail:
    service = desk(call)
    with refusals():
        case = await service.create_case(call.body)
        return await service.detail(case.id)


@API.route("PATCH", "/cases/{id}", summary="Change a case's fields (chair, admin)", roles=MANAGERS,
           body=CaseChanges, response=CaseDetail, tag=TAG)
async def update_case(call: Call) -> CaseDetail:
    service = desk(call)
    with refusals():
        case = await service.update_case(call.path_int("id"), call.body)
        return await service.detail(case.id)


@API.route("POST", "/cases/{id}/items", summary="Add an approval item to a case (chair, admin)",
           roles=MANAGERS, body=NewItem, response=ItemOut, status=201, tag=TAG)
async def add_item(call: Call) -> ItemOut:
    service = desk(call)
    with refusals():
        return await service.item_view(await service.add_item(call.path_int("id"), call.body))


@API.route("PATCH", "/items/{id}",
           summary="Change an item (chair, admin: any field; its department's chief rep: status, result, "
                   "document_no)", roles=ITEM_ACTORS, body=ItemChanges, response=ItemOut, tag=TAG)
async def update_item(call: Call) -> ItemOut:
    service = desk(call)
    with refusals():
        return await service.item_view(await service.update_item(call.path_int("id"), call.body))


@API.route("POST", "/items/{id}/suspensions",
           summary="Suspend an item's clock (中止办理) with its notice (chair, admin, the item's department)",
           roles=ITEM_ACTORS, body=NewSuspension, response=ItemOut, status=201, tag=TAG)
async def suspend_item(call: Call) -> ItemOut:
    service = desk(call)
    with refusals():
        return await service.item_view(await service.suspend(call.path_int("id"), call.body))


@API.route("POST", "/items/{id}/suspensions/{sid}/resume",
           summary="Resume a suspended item (恢复办理) with its notice (chair, admin, the item's department)",
           roles=ITEM_ACTORS, body=Resumption, response=ItemOut, tag=TAG)
async def resume_item(call: Call) -> ItemOut:
    service = desk(call)
    with refusals():
        item = await service.resume(call.path_int("id"), call.path_int("sid"), call.body)
        return await service.item_view(item)
