"""The HTTP scenarios: for each, a seeded list of requests every contestant replays."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from bench._data import TEAMS
from bench._floor import encode_cursor

__all__ = ["SCENARIOS", "Scenario", "write_requests"]

PAGE = 100
SAMPLE = 5000  # requests per file; wrk picks among them at random


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    cursor: bool = False  # needs keyset pages (the hand-written service has none)
    write: bool = False


SCENARIOS = [
    Scenario("get_one", "get one hero by random id (with its team)"),
    Scenario("list_offset", "list: page of 100 at a random offset (< 10,000)"),
    Scenario(
        "list_cursor", "list: page of 100 by cursor, deep (50k-100k)", cursor=True
    ),
    Scenario("create", "create a hero", write=True),
    Scenario("patch", "patch a hero's age", write=True),
    Scenario("team_heroes", "a team with its heroes (~50)"),
]


def requests_for(
    key: str, heroes: int, rng: random.Random, count: int = SAMPLE
) -> list[str]:
    """`METHOD<TAB>PATH<TAB>BODY` lines for scenario `key` on a table of `heroes` rows."""
    lines = []
    for n in range(count):
        if key == "get_one":
            lines.append(f"GET\t/heroes/{rng.randint(1, heroes)}\t")
        elif key == "list_offset":
            offset = rng.randrange(0, min(10_000, heroes - PAGE))
            lines.append(f"GET\t/heroes/?offset={offset}&limit={PAGE}\t")
        elif key == "list_cursor":
            after = rng.randrange(heroes // 2, heroes - PAGE)
            lines.append(f"GET\t/heroes/?limit={PAGE}&cursor={encode_cursor(after)}\t")
        elif key == "create":
            body = {
                "name": f"New hero {n}",
                "secret_name": f"New identity {n}",
                "age": 18 + n % 60,
            }
            if n % 2:
                body["team_id"] = 1 + n % TEAMS
            lines.append(f"POST\t/heroes/\t{json.dumps(body, separators=(',', ':'))}")
        elif key == "patch":
            body = {"age": 18 + rng.randrange(60)}
            lines.append(f"PATCH\t/heroes/{rng.randint(1, heroes)}\t{json.dumps(body)}")
        elif key == "team_heroes":
            lines.append(f"GET\t/teams/{rng.randint(1, TEAMS)}\t")
        else:
            raise ValueError(key)
    return lines


def write_requests(folder: Path, heroes: int, seed: int = 6) -> dict[str, Path]:
    """One request file per scenario in `folder`."""
    rng = random.Random(seed)
    files = {}
    for scenario in SCENARIOS:
        path = folder / f"{scenario.key}.txt"
        path.write_text("\n".join(requests_for(scenario.key, heroes, rng)) + "\n")
        files[scenario.key] = path
    return files
