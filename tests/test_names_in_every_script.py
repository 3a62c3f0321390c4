"""Names in every script: ICU's transliteration keys them, so the same person written in
Serbian Cyrillic, Serbian Latin or plain ASCII meets, and Greek, Russian and Arabic names
are keyed (not refused as "nothing left after normalisation").

Measured against ``anyascii`` and ``unidecode`` on the same names: both write Serbian
Cyrillic ш/ч/ж as "sh"/"ch"/"zh" but Serbian Latin š/č/ž as "s"/"c"/"z", so "Жељко
Шаровић" and "Željko Šarović" never met; ICU's Serbian transform writes the Latin
alphabet's own letters, and they do.
"""

import httpx
import pytest
from alembic import command
from sqlalchemy import column, select, table, update

from ocpo_coord.db import make_sync_engine
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.migrate import alembic_config
from ocpo_coord.models.enums import SelectorKind
from tests.conftest import auth

NAME = SelectorKind.NAME


@pytest.mark.parametrize(
    "spellings",
    [
        # Serbian: Cyrillic, Latin, and Latin without diacritics
        ("Жељко Шаровић", "Željko Šarović", "SAROVIC Zeljko"),
        ("Ђорђе Ђорђевић", "Đorđe Đorđević", "Djordje Djordjevic"),
        ("Љубиша Његош", "Ljubiša Njegoš", "Ljubisa Njegos"),
        ("Џевад Чолић", "Dževad Čolić", "Dzevad Colic"),
        ("Милан Јовановић", "Milan Jovanović", "Jovanovic, Milan"),
        # Albanian
        ("Shkëlzen Gashi", "GASHI Shkelzen"),
        ("Hashim Thaçi", "Thaci Hashim"),
        # Greek and its usual Latin spelling
        ("Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos"),
        ("Νίκος Οικονόμου", "Nikos Oikonomou"),
        # Haitian Creole
        ("Jozèf Pòl Sentilis", "Jozef Pol SENTILIS"),
        ("Wilnè Désir", "Wilne Desir"),
    ],
)
def test_spellings_of_one_name_meet(spellings: tuple[str, ...]) -> None:
    keys = {normalize(NAME, s) for s in spellings}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Юрий Щукин", "sukin urij"),
        ("Γιώργος Παπαδόπουλος", "giorgos papadopoulos"),
        ("محمد الحسن", "alhsn mhmd"),  # Arabic is written without its short vowels
        ("Ahmad Ḥasan", "ahmad hasan"),
    ],
)
def test_names_in_other_scripts_are_keyed(name: str, key: str) -> None:
    assert normalize(NAME, name) == key


def test_different_people_stay_apart() -> None:
    assert normalize(NAME, "Милан Јовановић") != normalize(NAME, "Милош Јовановић")
    assert normalize(NAME, "Γιώργος Παπαδόπουλος") != normalize(NAME, "Γιάννης Παπαδόπουλος")


async def test_a_greek_or_arabic_name_selector_is_taken_and_found_in_the_other_script(
    client: httpx.AsyncClient,
) -> None:
    headers = auth("unmik.chief")
    created = []
    for label, name in (
        ("Ship's master", "Γιώργος Παπαδόπουλος"),
        ("Money courier", "محمد الحسن"),
        ("Fuel smuggler", "Жељко Шаровић"),
    ):
        response = await client.post(
            "/api/v1/entities",
            json={"entity_kind": "person", "label": label, "selectors": [{"kind": "name", "value": name}]},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    for written, expected in (("Giorgos Papadopoulos", created[0]), ("Željko Šarović", created[2])):
        found = await client.get(
            "/api/v1/entities", params={"selector_kind": "name", "selector": written}, headers=headers
        )
        assert found.status_code == 200, found.text
        assert expected in [e["id"] for e in found.json()["items"]], written


def test_the_migration_keys_stored_selectors_again(db_url: str) -> None:
    """Selectors keyed by the earlier rules ('ri ukin' for Юрий Щукин) get the new key."""
    selector = table("selector", column("id"), column("kind"), column("value"), column("normalized"))
    engine = make_sync_engine(db_url)
    config = alembic_config(db_url)
    try:
        command.downgrade(config, "fe8f8b2a2139")
        with engine.begin() as conn:
            row = conn.execute(select(selector.c.id).where(selector.c.kind == "name").limit(1)).scalar_one()
            conn.execute(
                update(selector).where(selector.c.id == row).values(value="Юрий Щукин", normalized="ri ukin")
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            key = conn.execute(select(selector.c.normalized).where(selector.c.id == row)).scalar_one()
        assert key == "sukin urij"
    finally:
        engine.dispose()
