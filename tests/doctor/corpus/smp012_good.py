import collections
from typing import Annotated, Protocol

from fastapi import Body, Depends, HTTPException, Query

from .models import Hero, HeroPublic

MAX_PAGE = 100


@app.get("/heroes/", response_model=list[HeroPublic])
def read_heroes(
    *,
    session: SessionDep,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=100),
):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


@app.get("/teams/")
def read_teams(
    *,
    session: SessionDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(gt=0, le=MAX_PAGE)] = 10,
):
    return []


def helper(limit: int = 10, offset: int = 0) -> list[int]:
    return list(range(offset, offset + limit))


# Adapted from PrefectHQ/prefect `ce79dd3` (Apache-2.0), src/prefect/server/api: bounds in
# Body(), and a limit whose helper returns a dependency that checks both bounds.
def LimitBody():
    def get_limit(limit: int = Body(None)):
        if limit is not None and not 0 <= limit <= 200:
            raise HTTPException(status_code=422, detail="Invalid limit")
        return 200 if limit is None else limit

    return Depends(get_limit)


@router.post("/flow_runs/filter")
async def read_flow_runs(
    limit: int = LimitBody(),
    offset: int = Body(0, ge=0),
):
    return []


@router.post("/flows/delete")
async def delete_flows(limit: int = Body(200, ge=1, le=200)):
    return []


# Adapted from dataelement/bisheng `0172fb2` (Apache-2.0): an offset that slices rows read
# from a spreadsheet in Python, after a check, and never reaches SQL.
@router.post("/qa/import")
async def import_rows(
    size: int = Body(default=0, embed=True),
    offset: int = Body(default=0, embed=True),
):
    rows = read_rows()
    if size > 0 and offset >= 0:
        rows = rows[offset:size]
    return rows


# Adapted from freqtrade/freqtrade `c9ae5e1` (GPL-3.0) and mlrun/mlrun `c43870f` (Apache-2.0):
# a limit handed to the project's own functions that trim a buffer or a dataframe, an offset
# into a file read in a thread, and an offset the endpoint checks itself.
class Rpc:
    def analysed(self, pair: str, limit: int | None) -> list[float]:
        return self._raw(pair, limit)

    def _raw(self, pair: str, limit: int | None) -> list[float]:
        candles = CANDLES[pair]
        return candles[-limit:] if limit else candles


@router.get("/pair_candles")
def pair_candles(pair: str, limit: int | None = None, rpc: Rpc = Depends(get_rpc)):
    return rpc.analysed(pair, limit)


def read_log(path: str, offset: int) -> bytes:
    with open(path, "rb") as fp:
        fp.seek(offset)
        return fp.read()


@router.get("/build/status")
async def build_status(path: str, offset: int = 0):
    return await run_in_threadpool(read_log, path, offset)


@router.get("/logs")
async def logs(size: int = -1, offset: int = 0):
    if offset < 0:
        raise HTTPException(status_code=422, detail="Offset cannot be negative")
    return read_logs(size, offset)


# Adapted from airweave-ai/airweave `32cfea0` (MIT): a service behind a protocol slices the
# list its repository loaded; the protocol's declaration does nothing with the values.
class ConnectionServiceProtocol(Protocol):
    async def list_connections(self, *, skip: int = 0, limit: int = 100) -> list[str]:
        """List the organization's connections."""
        ...


class ConnectionService:
    async def list_connections(self, *, skip: int = 0, limit: int = 100) -> list[str]:
        connections = await load_connections()
        return connections[skip : skip + limit]


class FakeConnectionService:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    async def list_connections(self, *, skip: int = 0, limit: int = 100) -> list[str]:
        self.calls.append(("list_connections", skip, limit))
        return []


@router.get("/connections/")
async def list_auth_provider_connections(
    skip: int = 0,
    limit: int = 100,
    service: ConnectionServiceProtocol = Depends(get_connection_service),
):
    return await service.list_connections(skip=skip, limit=limit)


# Adapted from learnhouse/learnhouse `6fcca07` (AGPL-3.0): a limit clamped where it is used,
# and one handed to a service that takes it and never uses it.
@router.get("/zapier/courses")
async def zapier_courses(session: SessionDep, limit: int = 100):
    return session.exec(select(Hero).limit(max(1, min(limit, 500)))).all()


async def get_course_chapters(session, course_id: int, page: int, limit: int) -> list[Hero]:
    return session.exec(select(Hero).where(Hero.id == course_id)).all()


@router.get("/courses/{course_id}/chapters")
async def course_chapters(session: SessionDep, course_id: int, page: int = 1, limit: int = 10):
    return await get_course_chapters(session, course_id, page, limit)


# Adapted from nandyalu/trailarr `6aa5e06` (GPL-3.0): the function the endpoint hands the
# values to clamps them before its query; a limit that only sizes a deque of log lines.
def compute_library_pending(session, limit: int = 100, offset: int = 0) -> list[Hero]:
    offset = max(0, offset)
    limit = max(1, min(limit, 1000))
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


@router.get("/pending")
async def get_library_pending(session: SessionDep, limit: int = 100, offset: int = 0):
    return compute_library_pending(session, limit=limit, offset=offset)


@router.get("/logs/tail")
async def tail_logs(limit: int = 1000):
    lines: collections.deque[str] = collections.deque(maxlen=limit)
    lines.extend(read_log_lines())
    return list(lines)


# Adapted from eigent-ai/eigent `88d837f` (Apache-2.0): the endpoint and the service
# method it hands the limit to share a name; the method clamps it.
class StepService:
    @staticmethod
    def list_steps(session, limit: int) -> list[Hero]:
        limit = min(max(limit, 1), 1000)
        return session.exec(select(Hero).limit(limit)).all()


@router.get("/steps")
def list_steps(session: SessionDep, limit: int = 200):
    return StepService.list_steps(session, limit)


# Adapted from RamiAwar/dataline `8039199` (GPL-3.0): a paging parameter the endpoint
# declares and never uses reaches no query.
@router.get("/conversations")
async def list_conversations(session: SessionDep, limit: int = 100):
    return session.exec(select(Hero)).all()


# Adapted from IBM/mcp-context-forge `ecba50e` (Apache-2.0): the service resets a limit out
# of range to its default and clamps the offset.
def list_user_tokens(session, user_email: str, limit: int = 50, offset: int = 0):
    if limit <= 0 or limit > 1000:
        limit = 50
    offset = max(offset, 0)
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


@router.get("/tokens")
async def list_tokens(session: SessionDep, user_email: str, limit: int = 50, offset: int = 0):
    return list_user_tokens(session, user_email, limit=limit, offset=offset)


@router.get("/teams/{team_id}/tokens")
async def list_team_tokens(session: SessionDep, team_id: int, limit: int = 50, offset: int = 0):
    tokens = list_user_tokens(session, str(team_id), limit=limit, offset=offset)
    return TokenPage(tokens=tokens, limit=limit, offset=offset)


# Adapted from IBM/mcp-context-forge `ecba50e` (Apache-2.0): a page of a list loaded from a
# file, sliced in Python after the bounds are worked out.
def catalog_page(offset: int, limit: int) -> list[str]:
    entries = load_catalog()
    start = offset
    end = start + limit
    return entries[start:end]


@router.get("/catalog")
async def list_catalog(limit: int = 100, offset: int = 0):
    return catalog_page(offset, limit)


# Adapted from AstrBotDevs/AstrBot `19d00fb` (AGPL-3.0): the endpoint hands the value to a
# helper that runs the service in a lambda; the service resets and caps it.
class ConversationService:
    async def list_conversations(self, *, page_size: int) -> list[Hero]:
        if page_size < 1:
            page_size = 20
        page_size = min(page_size, 100)
        return (await session.exec(select(Hero).limit(page_size))).all()


async def _list_conversations(service: ConversationService, *, page_size: int):
    return await run_guarded(lambda: service.list_conversations(page_size=page_size))


@router.get("/conversations")
async def list_conversations_page(page_size: int = Query(default=20)):
    return await _list_conversations(ConversationService(), page_size=page_size)
