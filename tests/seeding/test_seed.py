"""The demo seed: realistic, complete, and safe to load twice."""

import json

from sqlmodel import func, select

from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Agency, Case, IntelItem, Record, Responsibility, Task, User
from ocpo_coord.seeding import DEMO_FILE, load_into, read_demo
from tests.fixtures.queries import count_rows


async def test_second_load_changes_nothing(db_url: str) -> None:
    before = {m.__name__: await count_rows(db_url, m) for m in (Agency, User, Record, Case, IntelItem, Task)}
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            assert await load_into(session, read_demo()) is False
            await session.commit()
    finally:
        await engine.dispose()
    after = {m.__name__: await count_rows(db_url, m) for m in (Agency, User, Record, Case, IntelItem, Task)}
    assert before == after


async def test_demo_holds_the_scenario(db_url: str) -> None:
    data = json.loads(DEMO_FILE.read_text())
    assert await count_rows(db_url, Case) == len(data["cases"])
    assert await count_rows(db_url, Responsibility) == len(data["responsibilities"])
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            logins = set((await session.exec(select(User.login))).all())
            host = (await session.exec(select(Agency.code).where(Agency.host_nation))).all()
            orcon = (await session.exec(select(func.count()).select_from(Record).where(Record.orcon))).one()
    finally:
        await engine.dispose()
    assert {
        "unmik.analyst",
        "unmik.chief",
        "eulex.prosecutor",
        "eulex.chief",
        "kfor.j2",
        "omik.adviser",
        "interpol.liaison",
        "unodc.expert",
        "kp.investigator",
        "admin",
    } <= logins
    assert set(host) == {"KP", "HNP"}
    assert orcon > 0
