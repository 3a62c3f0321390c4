"""``one_of``, the rule's short lists: a list of nothing matches nothing."""

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select

from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Record
from ocpo_coord.visibility.rule import one_of


async def test_one_of_nothing_matches_nothing_and_one_of_some_matches_them(db_url: str) -> None:
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:

            async def counted(*conditions: ColumnElement[bool]) -> int:
                statement = select(func.count()).select_from(Record).where(*conditions)
                return int((await session.exec(statement)).one())

            everything = await counted()
            tlps = list((await session.exec(select(Record.tlp).distinct())).all())
            assert everything > 0
            assert len(tlps) > 1
            # An empty OR would vanish from the WHERE clause and match every record.
            assert await counted(one_of(col(Record.tlp), [])) == 0
            assert await counted(col(Record.id).is_not(None), one_of(col(Record.tlp), [])) == 0
            assert await counted(one_of(col(Record.tlp), tlps)) == everything
            assert 0 < await counted(one_of(col(Record.tlp), tlps[:1])) < everything
    finally:
        await engine.dispose()
