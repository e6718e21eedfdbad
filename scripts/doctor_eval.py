"""Measure the doctor on public projects that are not in its corpus: precision and recall per rule.

Run: `python scripts/doctor_eval.py [--cache DIR] [--mirror DIR] [--set NAME] [--project NAME]
[--todo]`
(`make doctor-eval`). Each project's pinned commit is fetched once into the cache (default
`~/.cache/sqlmodel-production/eval`) as `scripts/doctor_corpus.py` does, never into the
repository, and the doctor runs on it with the default settings.

Precision: every finding of a project is judged, or a fixed random sample of 40 when it has
more (seeded, so the sample is the same on every run). The verdicts, each with its reason,
are in `scripts/doctor_eval_judgments.json`: `true` (the code, deployed as it is, has the
problem the message names), `false` (it does not), `debatable` (it depends on how the
project is deployed). `--todo` lists the sampled findings that have no verdict yet.

Recall: the bad snippets of `tests/doctor/corpus/` (with its shared models) are seeded into
each project's tree (without their database URLs) and checked together with the project, so
that the project's context (its databases, its classes of the same names) is what the rules
see; a seeded problem counts as found when its marked line is reported.

Sets (`--set`): `first` and `second` (the first two measurements), `tuning` and `held-out`
(the third: the rules were fixed on the tuning half, the held-out half was measured once),
`fourth` to `ninth` (each measured once, before any rule changed after it).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

from doctor_corpus import Project, checkout

from sqlmodel_production.doctor import Config, Severity, check
from sqlmodel_production.doctor.rules import RULES

ROOT = Path(__file__).parents[1]
JUDGMENTS = Path(__file__).with_name("doctor_eval_judgments.json")
CORPUS = ROOT / "tests" / "doctor" / "corpus"
SAMPLE = 40
RULE_SEVERITY = {rule.code: rule.severity for rule in RULES}
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>SMP\d{3}(?:\s*,\s*SMP\d{3})*)")

# Not in scripts/doctor_corpus.py; SQLModel and SQLAlchemy 2.0, sync and async. The licence
# is the repository's (only for the record: nothing of them is copied into this repository).
PROJECTS = (
    Project(
        "fastapi-backend-template",
        "Aeternalis-Ingenium/FastAPI-Backend-Template",
        "d2e931b9639aa5fbca2a85c1711e47c8ee39b254",
        ("backend",),
        "GPL-3.0",
    ),
    Project(
        "agenta",
        "Agenta-AI/agenta",
        "753af3838ef61cfc3f06c05951b3599fefbc75ef",
        ("api",),
        "MIT",
    ),
    Project(
        "skyvern",
        "Skyvern-AI/skyvern",
        "07222e7a7caae79aacd5908c30e4a4445fce5f9b",
        ("skyvern",),
        "AGPL-3.0",
    ),
    Project(
        "fief",
        "fief-dev/fief",
        "a77e7fb65fc54d7994740619684a87e85d1293ed",
        ("fief",),
        "Elastic-2.0",
    ),
    Project(
        "fastapi-boilerplate-igorbenav",
        "igorbenav/FastAPI-boilerplate",
        "61d84fa0d5b550ca35561114d0173c764da8a1e1",
        ("src",),
        "MIT",
    ),
    Project(
        "sqlmodel-boilerplate",
        "igorbenav/SQLModel-boilerplate",
        "b8ca49c21145e81b96cadfb7586b4f1fbf750edc",
        ("src",),
        "MIT",
    ),
    Project(
        "fastapi-clean-architecture",
        "jujumilk3/fastapi-clean-architecture",
        "a2232480d10965b2d712850252096c1ee460ffc1",
        ("app",),
        "none stated",
    ),
    Project(
        "mealie",
        "mealie-recipes/mealie",
        "b5643a9399465d8b4ea339e7a6639df2d697741b",
        ("mealie",),
        "AGPL-3.0",
    ),
    Project(
        "minimal-fastapi-postgres-template",
        "rafsaf/minimal-fastapi-postgres-template",
        "5a39f65b1fc3709b1fd4c394a4d9e8f2dce2280e",
        ("app",),
        "MIT",
    ),
    Project(
        "fastapi-boilerplate-teamhide",
        "teamhide/fastapi-boilerplate",
        "df4e6d4f817ec187eeaf2d1c5a877b27c06bb77b",
        ("app", "core"),
        "none stated",
    ),
    Project(
        "fastapi-langgraph-agent-template",
        "wassim249/fastapi-langgraph-agent-production-ready-template",
        "9ed5fdc1c93d37f44e51a34942a598d50f1f46a8",
        ("app",),
        "none stated",
    ),
    Project(
        "tracecat",
        "TracecatHQ/tracecat",
        "4209a655bc1da1a36d75ea29edfea69daffbdd23",
        ("tracecat",),
        "AGPL-3.0",
    ),
    Project(
        "litestar-fullstack",
        "litestar-org/litestar-fullstack",
        "8b637ce4232a407142ae94ec95d7eb268f8fd765",
        ("src/py",),
        "MIT",
    ),
    # Added after the first measurement and the fixes it led to, and measured once, unseen.
    Project(
        "fastapi-sqlalchemy-asyncpg",
        "grillazz/fastapi-sqlalchemy-asyncpg",
        "5d0207cb9b531f4dde28dec62fd5505e9e9c24b5",
        ("app",),
        "MIT",
    ),
    Project(
        "async-fastapi-sqlalchemy",
        "rhoboro/async-fastapi-sqlalchemy",
        "6c08827241e9737487905c62d8834edc2a0da8e7",
        ("app",),
        "MIT",
    ),
    Project(
        "ultimate-fastapi-tutorial",
        "ChristopherGS/ultimate-fastapi-tutorial",
        "c8a0c69d895df57d3d77a21de817ed7ddc71f183",
        ("part-14-send-email-in-background",),
        "none stated",
    ),
    Project(
        "demo-fastapi-async-sqlalchemy",
        "ThomasAitken/demo-fastapi-async-sqlalchemy",
        "1d5d5b1789944ab2d9659af94b60568a49fe62cc",
        ("backend",),
        "MIT",
    ),
)

# The third measurement: 13 more projects, split by hand into two halves before the doctor
# was run on any of them, each half with SQLModel, async SQLAlchemy 2.0 and sync SQLAlchemy
# code. The rules were fixed on the tuning half only; the held-out half was then measured once.
TUNING = (
    Project(
        "keep",
        "keephq/keep",
        "af93f550b6498089d5e93b6dd426fc2a49498464",
        ("keep/api",),
        "MIT (ee/ under its own licence)",
    ),
    Project(
        "bisheng",
        "dataelement/bisheng",
        "0172fb2846a52458f29affe9c23073fd1653da76",
        ("src/backend/bisheng",),
        "Apache-2.0",
    ),
    Project(
        "letta",
        "letta-ai/letta",
        "56ba9c25552605eec89de8ed3dc6394b625c1993",
        ("letta",),
        "Apache-2.0",
    ),
    Project(
        "prefect",
        "PrefectHQ/prefect",
        "ce79dd3d6cfa2b7337265498210dbc4d25bcdc98",
        ("src/prefect/server",),
        "Apache-2.0",
    ),
    Project(
        "superagi",
        "TransformerOptimus/SuperAGI",
        "c3c1982e7bd6a11cfed53c5a193ea502f924b1b6",
        ("superagi", "main.py"),
        "MIT",
    ),
    Project(
        "mem0-server",
        "mem0ai/mem0",
        "8d5b7865bd0521e75fe9ab1b260eeccc83f8a378",
        ("server",),
        "Apache-2.0",
    ),
)
HELD_OUT = (
    Project(
        "open-assistant",
        "LAION-AI/Open-Assistant",
        "f1e6ed9526f5817531f3ab85441a40b3671ddccb",
        ("backend/oasst_backend", "inference/server/oasst_inference_server"),
        "Apache-2.0",
    ),
    Project(
        "dstack",
        "dstackai/dstack",
        "511c318c8a7672fb2a925041bfc2d7301a26272e",
        ("src/dstack/_internal/server",),
        "MPL-2.0",
    ),
    Project(
        "phoenix",
        "Arize-ai/phoenix",
        "9478f954bbc6175a0eaef398d0a92c1d967c3bfe",
        ("src/phoenix/server", "src/phoenix/db"),
        "Elastic-2.0",
    ),
    Project(
        "cognee",
        "topoteretes/cognee",
        "a8f9760bb6da90a9956b3be77c0d0534134f533a",
        ("cognee/api", "cognee/modules", "cognee/infrastructure"),
        "Apache-2.0",
    ),
    Project(
        "fides",
        "ethyca/fides",
        "96aa40cba74e44a369d637b056f08310132b65ba",
        ("src/fides/api",),
        "Apache-2.0",
    ),
    Project(
        "onyx",
        "onyx-dot-app/onyx",
        "a7d66a8b778c3f9026c4f89dae47d14a3f84816f",
        ("backend/onyx",),
        "MIT (ee/ under its own licence)",
    ),
    Project(
        "langchain-chatchat",
        "chatchat-space/Langchain-Chatchat",
        "49165d6af4438aa7e8a1f71ce276db55f4405151",
        ("libs/chatchat-server/chatchat",),
        "Apache-2.0",
    ),
)
# The fourth measurement: 7 more projects, chosen and pinned before the doctor was run on any
# of them, and measured once before any rule changed.
FOURTH = (
    Project(
        "quivr",
        "QuivrHQ/quivr",
        "4e96ad86cbc3f974ca82a273cb34d4b3c73c39fc",
        ("backend/api/quivr_api",),
        "Apache-2.0",
    ),
    Project(
        "ell",
        "MadcowD/ell",
        "9d129846203e75efeb4e5cddd3fb1c164dc0b243",
        ("src/ell",),
        "MIT",
    ),
    Project(
        "kotaemon",
        "Cinnamon/kotaemon",
        "4015bb0f7cebd59d474624c4a570a4c119cdd826",
        ("libs/ktem/ktem",),
        "Apache-2.0",
    ),
    Project(
        "surfsense",
        "MODSetter/SurfSense",
        "b4d57e9b471891962a24bbd5c77620983509abfa",
        ("surfsense_backend/app",),
        "Apache-2.0 (app/proprietary/ under its own licence)",
    ),
    Project(
        "freqtrade",
        "freqtrade/freqtrade",
        "c9ae5e1e9ff25bb55dd61f5e5519f7c479291edb",
        ("freqtrade/persistence", "freqtrade/rpc"),
        "GPL-3.0",
    ),
    Project(
        "mlrun",
        "mlrun/mlrun",
        "c43870ff8eb19f3b35e16d48b956a6fd9caed427",
        ("server/api",),
        "Apache-2.0",
    ),
    Project(
        "pyspur",
        "PySpur-Dev/pyspur",
        "97b9856e49f227a52868b73493c23c43fb4de358",
        ("backend/pyspur",),
        "Apache-2.0",
    ),
)
# The fifth measurement: 10 more projects, chosen by kind and database (not by what a rule
# might find) and pinned before the doctor was run on any of them; measured once, with the
# rules after the fourth set's fixes and SMP005's reading of migrations.
FIFTH = (
    Project(
        "spoolman",
        "Donkie/Spoolman",
        "a9e50559bb11604808c34bd3f78734e8d2ca942c",
        ("spoolman",),
        "MIT",
    ),
    Project(
        "hyperion",
        "aeecleclair/Hyperion",
        "e9b5f538bcc0376abe7f6c0a64a14c2c116d7356",
        ("app",),
        "MIT",
    ),
    Project(
        "airweave",
        "airweave-ai/airweave",
        "32cfea0cd72d47b8a639a44f046075ca5ca04d78",
        ("backend/airweave",),
        "MIT",
    ),
    Project(
        "honcho",
        "plastic-labs/honcho",
        "ddbb90e36f2d148c7982f6ed85b09d31cabf5944",
        ("src",),
        "AGPL-3.0",
    ),
    Project(
        "learnhouse",
        "learnhouse/learnhouse",
        "6fcca07134068e708cacf0be994ba080c2749cd9",
        (
            "apps/api/src/db",
            "apps/api/src/routers",
            "apps/api/src/services",
            "apps/api/src/security",
            "apps/api/src/core",
        ),
        "AGPL-3.0",
    ),
    Project(
        "autogen-studio",
        "microsoft/autogen",
        "027ecf0a379bcc1d09956d46d12d44a3ad9cee14",
        ("python/packages/autogen-studio/autogenstudio",),
        "MIT (LICENSE-CODE; docs CC-BY-4.0)",
    ),
    Project(
        "jupyterhub",
        "jupyterhub/jupyterhub",
        "2841153db6c1c25d8b50955e2f4b39f78f3d0119",
        ("jupyterhub",),
        "BSD-3-Clause",
    ),
    Project(
        "spiff-arena",
        "sartography/spiff-arena",
        "d7678cf75bd1bc1b6dd0d05ba54c0f0dfa730952",
        ("spiffworkflow-backend/src/spiffworkflow_backend",),
        "LGPL-2.1",
    ),
    Project(
        "privacyidea",
        "privacyidea/privacyidea",
        "55410007d118b505d9ff300b6114c2701e9bdb3c",
        ("privacyidea",),
        "AGPL-3.0-or-later",
    ),
    Project(
        "conda-store",
        "conda-incubator/conda-store",
        "9177dc6692ac2fd3b17dbbb72f93d1e357eedc8f",
        ("conda-store-server/conda_store_server",),
        "BSD-3-Clause",
    ),
)
# The sixth measurement: 8 more projects (4 SQLModel), chosen and pinned the same way before
# the doctor ran on any of them; measured once, with the rules after the fifth set's fixes.
SIXTH = (
    Project(
        "gpustack",
        "gpustack/gpustack",
        "47277d79f4a5bae12a2d25e9ecbed2a2177a5f2d",
        ("gpustack",),
        "Apache-2.0",
    ),
    Project(
        "fractal-server",
        "fractal-analytics-platform/fractal-server",
        "931d0d46cdfefb3d383d768f7eebb6dc270c21a2",
        ("fractal_server",),
        "BSD-3-Clause",
    ),
    Project(
        "lilypad",
        "Mirascope/lilypad",
        "2de5c9131df928c6dd129ef5a7520b82f4d4ae84",
        ("app/lilypad",),
        "MIT (ee/ directories: separate Lilypad EE licence, app/ee/LICENSE)",
    ),
    Project(
        "trailarr",
        "nandyalu/trailarr",
        "6aa5e0667b15deecf2ca4501ecf13c936fc4cf69",
        ("backend/api", "backend/config", "backend/core", "backend/main.py"),
        "GPL-3.0",
    ),
    Project(
        "pasarguard",
        "PasarGuard/panel",
        "e81877c0df64e5f5235f4355b0490b6bb38e3adc",
        ("app",),
        "AGPL-3.0",
    ),
    Project(
        "papermerge",
        "papermerge/papermerge-core",
        "4a69d097d9f635fad8de57929d775e2199ba5ae8",
        ("papermerge",),
        "Apache-2.0",
    ),
    Project(
        "tiled",
        "bluesky/tiled",
        "898f524c0500a43b92ba3a45049f145f531c6e23",
        (
            "tiled/server",
            "tiled/catalog",
            "tiled/authn_database",
            "tiled/access_control",
        ),
        "BSD-3-Clause",
    ),
    Project(
        "zou",
        "cgwire/zou",
        "4bf77e6da49b9d06521aaead52927daf6449a99d",
        ("zou",),
        "AGPL-3.0",
    ),
)
# The seventh measurement: 8 more projects, chosen and pinned the same way before the doctor
# ran on any of them; measured once, with the rules after the sixth set's fixes.
SEVENTH = (
    Project(
        "kinit",
        "vvandk/kinit",
        "dd2e3a65aff3647420453e36abee8b5bc8449c0b",
        ("kinit-api",),
        "MIT",
    ),
    Project(
        "rag-web-ui",
        "rag-web-ui/rag-web-ui",
        "905fb04669ae6f2a0cb3690d82a547b860e80dd4",
        ("backend/app",),
        "Apache-2.0",
    ),
    Project(
        "mediamanager",
        "maxdorninger/MediaManager",
        "fcdb9bbe87f9db3c6c3cf7cdb069cd365140da5b",
        ("media_manager",),
        "AGPL-3.0",
    ),
    Project(
        "endurain",
        "joaovitoriasilva/endurain",
        "b0bc916c44a8d4fc8cb485569f427853d7dff581",
        ("backend/app",),
        "AGPL-3.0",
    ),
    Project(
        "dataline",
        "RamiAwar/dataline",
        "803919936b43b680cdbde063d4a5192f0357e59a",
        ("backend/dataline",),
        "GPL-3.0",
    ),
    Project(
        "kitchenowl",
        "TomBursch/kitchenowl",
        "8677319da3e195c705be2c8ea8a064c23b788662",
        ("backend/app",),
        "AGPL-3.0",
    ),
    Project(
        "quetz",
        "mamba-org/quetz",
        "56ab2cfc58c89111637c62f9fc54bec8c97f522e",
        ("quetz",),
        "BSD-3-Clause",
    ),
    Project(
        "eigent",
        "eigent-ai/eigent",
        "88d837f75ad95a21eebaa638072adad2019644be",
        ("server/app",),
        "Apache-2.0",
    ),
)
# The eighth measurement: 8 more projects, chosen and pinned the same way before the doctor
# ran on any of them; measured once, with the rules after the seventh set's fixes.
EIGHTH = (
    Project(
        "tribe",
        "StreetLamb/tribe",
        "e1c2020a7dd7377d1ec14292f113c53ddf50d917",
        ("backend/app",),
        "MIT",
    ),
    Project(
        "agentgpt",
        "reworkd/AgentGPT",
        "18b073ab05b2902e1d052c3d2799786d8623b5e5",
        ("platform/reworkd_platform",),
        "GPL-3.0",
    ),
    Project(
        "gsuid-core",
        "Genshin-bots/gsuid_core",
        "3f9716caa2e635aed888392c70557fe31cca4ce2",
        ("gsuid_core",),
        "GPL-3.0",
    ),
    Project(
        "bitcart",
        "bitcart/bitcart",
        "065c842107218459e0b1f3ba3c8cfeda3e5c8edf",
        ("api",),
        "MIT",
    ),
    Project(
        "dograh",
        "dograh-hq/dograh",
        "058c540c4d92c55f529d04fabceb17da4901a0cb",
        ("api",),
        "BSD-2-Clause",
    ),
    Project(
        "bazarr",
        "morpheus65535/bazarr",
        "920853daee558751c3abe5755cb04613d28b281c",
        ("bazarr",),
        "GPL-3.0",
    ),
    Project(
        "mcp-context-forge",
        "IBM/mcp-context-forge",
        "ecba50e4828ae0c83f8ef7b1d6d485b3cf39ce66",
        ("mcpgateway",),
        "Apache-2.0",
    ),
    Project(
        "mailu",
        "Mailu/Mailu",
        "bbb1c206f9c8e438bb7f7193bdd8eea2ed09d7fd",
        ("core/admin/mailu",),
        "MIT",
    ),
)
# The ninth measurement: 10 more projects, chosen and pinned the same way before the doctor
# ran on any of them; measured once, with the rules after the eighth set's fixes.
NINTH = (
    Project(
        "warehouse",
        "pypi/warehouse",
        "6b62157124ab7865029afeeadf282bce27d601d9",
        ("warehouse",),
        "Apache-2.0",
    ),
    Project(
        "renku-data-services",
        "SwissDataScienceCenter/renku-data-services",
        "e81895b495079eef2dfd00ff6569f6e3b2f31815",
        ("components/renku_data_services", "bases/renku_data_services"),
        "Apache-2.0",
    ),
    Project(
        "powerdns-admin",
        "PowerDNS-Admin/PowerDNS-Admin",
        "742dd103e63d2e57e387e3487980c01d290e1cc2",
        ("powerdnsadmin",),
        "MIT",
    ),
    Project(
        "flaskbb",
        "flaskbb/flaskbb",
        "4b78af85e96b375fdbc4d53723cedea459c99ac4",
        ("flaskbb",),
        "BSD-3-Clause",
    ),
    Project(
        "keystone",
        "openstack/keystone",
        "30ef2ffa65a3486ef882f00538e20f2253c57d4c",
        (
            "keystone/api",
            "keystone/application_credential",
            "keystone/assignment",
            "keystone/auth",
            "keystone/catalog",
            "keystone/cmd",
            "keystone/common",
            "keystone/conf",
            "keystone/credential",
            "keystone/endpoint_policy",
            "keystone/federation",
            "keystone/identity",
            "keystone/limit",
            "keystone/models",
            "keystone/oauth1",
            "keystone/oauth2",
            "keystone/policy",
            "keystone/receipt",
            "keystone/resource",
            "keystone/revoke",
            "keystone/server",
            "keystone/token",
            "keystone/trust",
            "keystone/wsgi",
        ),
        "Apache-2.0",
    ),
    Project(
        "empire",
        "BC-SECURITY/Empire",
        "ca5b77497f82011646422c38dfe67b9b8ebdd85f",
        ("empire/server",),
        "BSD-3-Clause",
    ),
    Project(
        "iris-web",
        "dfir-iris/iris-web",
        "e6aa4ba3de745c20df3fdd77e1c7369333bd1c7a",
        ("source/app",),
        "LGPL-3.0",
    ),
    Project(
        "bodhi",
        "fedora-infra/bodhi",
        "2afdbd08d8294024d773b4a944bbc1711ce5a4db",
        ("bodhi-server/bodhi",),
        "GPL-2.0-or-later",
    ),
    Project(
        "tux",
        "allthingslinux/tux",
        "c0e1a1e8537a1d487d86b898ca88d4f147422f87",
        ("src/tux",),
        "GPL-3.0-or-later",
    ),
    Project(
        "semantic-workbench",
        "microsoft/semanticworkbench",
        "2c2b0df7b17d408a77fa04f2c8f902cc98c06b66",
        ("workbench-service/semantic_workbench_service",),
        "MIT",
    ),
)
# The tenth measurement: 12 more projects (4 SQLModel), chosen and pinned the same way before
# the doctor ran on any of them; measured once, with the rules after the ninth set's fixes.
TENTH = (
    Project(
        "sqlbot",
        "dataease/SQLBot",
        "59ca09708ff907521c8628b2d44c888b8711c8c9",
        ("backend",),
        "LicenseRef-GPL-3.0-modified",
    ),
    Project(
        "sparkth",
        "edly-io/sparkth",
        "01847111b1c46cc0e46c306af7381c35398d754f",
        ("sparkth",),
        "MIT",
    ),
    Project(
        "autobangumi",
        "EstrellaXD/Auto_Bangumi",
        "bd6d35dbe50d6caa04e635d7bbbc244b3e138ea7",
        ("backend/src/module",),
        "MIT",
    ),
    Project(
        "astrbot",
        "AstrBotDevs/AstrBot",
        "19d00fb1f0d822690a467e8dca498adebbb2d67b",
        ("astrbot",),
        "AGPL-3.0",
    ),
    Project(
        "datajunction",
        "DataJunction/dj",
        "899ff6576e47cb4b431188f9b01cb5c4990154f4",
        ("datajunction-server/datajunction_server",),
        "MIT",
    ),
    Project(
        "open-wearables",
        "the-momentum/open-wearables",
        "44a268be623e81995e896b05ed93a56411ddf807",
        ("backend/app",),
        "MIT",
    ),
    Project(
        "ruoyi-fastapi",
        "insistence/RuoYi-Vue3-FastAPI",
        "b05614569fc6d77215f2629a33591335f4731ddc",
        ("ruoyi-fastapi-backend",),
        "MIT",
    ),
    Project(
        "langbot",
        "langbot-app/LangBot",
        "962366c5072d385afb94f9a1088872983c543fa8",
        ("src/langbot",),
        "Apache-2.0",
    ),
    Project(
        "fmn",
        "fedora-infra/fmn",
        "3c377f15b5c78d94d7231c54f66c2d51cba9e80c",
        ("fmn",),
        "MIT",
    ),
    Project(
        "fittrackee",
        "SamR1/FitTrackee",
        "80c19816b7a41919dea63979c299944da833b5d1",
        ("fittrackee",),
        "AGPL-3.0",
    ),
    Project(
        "notifications-api",
        "GSA/notifications-api",
        "0bc76ba8427276bcbfb6f6c4c64fd39f370a91c1",
        ("app",),
        "MIT AND CC0-1.0",
    ),
    Project(
        "moviepilot",
        "jxxghp/MoviePilot",
        "bab1f73480bf469936288240ae7c567c52de6828",
        ("app",),
        "GPL-3.0",
    ),
)
# The eleventh measurement: 12 more projects (4 SQLModel), chosen and pinned the same way
# before the doctor ran on any of them; measured once, with the rules after the tenth set's
# fixes.
ELEVENTH = (
    Project(
        "autoflow",
        "pingcap/autoflow",
        "7eb3e1c6f2467ebe9824a65695218d014d075974",
        ("backend/app",),
        "Apache-2.0",
    ),
    Project(
        "admyral",
        "Admyral-Security/admyral",
        "de332e2dd7d1deb536d859b7ad7bf74f64ab7e93",
        ("admyral",),
        "Apache-2.0",
    ),
    Project(
        "fulcrum",
        "Levers-Labs/fulcrum-intelligence",
        "04cecd1c7fa13eeef6a489a6fccde278d494e793",
        (
            "commons/commons",
            "insights_backend/insights_backend",
            "query_manager/query_manager",
            "story_manager/story_manager",
            "analysis_manager/analysis_manager",
        ),
        "none",
    ),
    Project(
        "datastep",
        "hub-datastep/demo-backend",
        "04ac2e40b6d87ed9473e6e31d8aef60bc3a0ee48",
        ("src",),
        "none",
    ),
    Project(
        "openrelik",
        "openrelik/openrelik-server",
        "49e40a4b90245579fe76aa0b280acfe968ba518a",
        ("src",),
        "Apache-2.0",
    ),
    Project(
        "hypothesis-h",
        "hypothesis/h",
        "24395ca438e3bd4b5c301e30ab81ca1d024ee840",
        ("h",),
        "BSD-2-Clause",
    ),
    Project(
        "romm",
        "rommapp/romm",
        "57badfd62664c8db211294761489f61470c74ce6",
        ("backend",),
        "AGPL-3.0",
    ),
    Project(
        "sampledb",
        "sciapp/sampledb",
        "2407575c7c5e9ab553cd7ad1bcc531787afb15cd",
        ("sampledb",),
        "MIT",
    ),
    Project(
        "test-observer",
        "canonical/test_observer",
        "01c5ca9256ccea22e25b2e88eca5877eb9767571",
        ("backend/test_observer",),
        "AGPL-3.0-only",
    ),
    Project(
        "cohere-toolkit",
        "cohere-ai/cohere-toolkit",
        "fdd4371edf164f2c1726a884e421049093c0128e",
        ("src/backend",),
        "MIT",
    ),
    Project(
        "opengatellm",
        "etalab-ia/OpenGateLLM",
        "80e24d436c51b9861e935a4530743097d1fe3f37",
        ("app",),
        "MIT",
    ),
    Project(
        "fastapiadmin",
        "1014TaoTao/FastapiAdmin",
        "5fd3b2dc022e4324f89bb96afd650f102ccc925e",
        ("backend/app",),
        "MIT",
    ),
)
SETS = {
    "first": PROJECTS[:13],
    "second": PROJECTS[13:],
    "tuning": TUNING,
    "held-out": HELD_OUT,
    "fourth": FOURTH,
    "fifth": FIFTH,
    "sixth": SIXTH,
    "seventh": SEVENTH,
    "eighth": EIGHTH,
    "ninth": NINTH,
    "tenth": TENTH,
    "eleventh": ELEVENTH,
}


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def findings_of(project: Project, tree: Path) -> list[dict[str, object]]:
    report = check([tree / path for path in project.paths], Config(root=tree))
    return [
        {**f.as_dict(), "path": str(Path(f.path).resolve().relative_to(tree))}
        for f in report.findings
    ]


def key(finding: dict[str, object]) -> str:
    return f"{finding['path']}:{finding['line']}:{finding['code']}"


def sample(
    project: Project, findings: list[dict[str, object]]
) -> list[dict[str, object]]:
    if len(findings) <= SAMPLE:
        return findings
    chosen = random.Random(project.name).sample(sorted(findings, key=key), SAMPLE)
    return sorted(chosen, key=key)


def seeded_recall(project: Project, tree: Path) -> tuple[Counter[str], Counter[str]]:
    """(seeded, found) per rule for the corpus's bad snippets dropped into the tree."""
    seeds = tree / project.paths[0] / "_smp_seeded"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    shutil.copy(CORPUS / "models.py", seeds / "models.py")
    bads = sorted(CORPUS.glob("smp*_bad.py"))
    # The package imports its modules, as a project imports its code: a module nothing
    # imports is left out (its code never runs).
    (seeds / "__init__.py").write_text(
        "from . import models, " + ", ".join(bad.stem for bad in bads) + "\n"
    )
    marks: set[tuple[str, int, str]] = set()
    for bad in bads:
        # Without the snippets' database URLs: the project's own databases decide.
        lines = bad.read_text().splitlines()
        (seeds / bad.name).write_text(
            "\n".join("" if "://" in line else line for line in lines) + "\n"
        )
        for number, line in enumerate(lines, start=1):
            if "://" in line:
                continue
            match = _EXPECT.search(line)
            if match:
                marks.update(
                    (bad.name, number, code.strip())
                    for code in match["codes"].split(",")
                )
    try:
        report = check([tree / path for path in project.paths], Config(root=tree))
        reported = {
            (Path(f.path).name, f.line, f.code)
            for f in report.findings
            if "_smp_seeded" in f.path
        }
    finally:
        shutil.rmtree(seeds, ignore_errors=True)
    seeded = Counter(code for _, _, code in marks)
    found = Counter(code for mark in marks if mark in reported for code in [mark[2]])
    return seeded, found


def rate(v: Counter[str]) -> tuple[int, str, str]:
    """(judged, precision, strict) of a tally of verdicts."""
    judged = v["true"] + v["false"] + v["debatable"]
    decided = v["true"] + v["false"]
    precision = f"{100 * v['true'] / decided:.0f} %" if decided else "-"
    strict = f"{100 * v['true'] / judged:.0f} %" if judged else "-"
    return judged, precision, strict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "sqlmodel-production" / "eval",
    )
    parser.add_argument("--mirror", type=Path, default=None)
    parser.add_argument("--project", action="append", default=None)
    parser.add_argument(
        "--set",
        action="append",
        choices=sorted(SETS),
        default=None,
        help="only the projects of this measurement (all when not given)",
    )
    parser.add_argument(
        "--todo", action="store_true", help="list sampled findings without a verdict"
    )
    args = parser.parse_args()
    judgments: dict[str, dict[str, dict[str, str]]] = (
        json.loads(JUDGMENTS.read_text()) if JUDGMENTS.exists() else {}
    )
    pool = [(name, p) for name in (args.set or sorted(SETS)) for p in SETS[name]]
    chosen = [
        (name, p) for name, p in pool if args.project is None or p.name in args.project
    ]
    # Verdicts per (rule, severity): a rule's info findings are not on by default.
    verdicts: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    totals: Counter[tuple[str, str]] = Counter()
    seeded_all: Counter[str] = Counter()
    found_all: Counter[str] = Counter()
    # The findings on by default (warning, error) of each set.
    by_set: defaultdict[str, Counter[str]] = defaultdict(Counter)
    out("| project | files | findings | judged | true | false | debatable |")
    out("|---|---:|---:|---:|---:|---:|---:|")
    for set_name, project in chosen:
        tree = checkout(project, args.cache, args.mirror)
        files = sum(
            1
            for path in project.paths
            for _ in (
                [tree / path] if path.endswith(".py") else (tree / path).rglob("*.py")
            )
        )
        findings = findings_of(project, tree)
        totals.update((str(f["code"]), str(f["severity"])) for f in findings)
        judged = judgments.get(project.name, {})
        row: Counter[str] = Counter()
        for finding in sample(project, findings):
            verdict = judged.get(key(finding), {}).get("verdict")
            if verdict is None:
                row["unjudged"] += 1
                if args.todo:
                    out(f"  TODO {project.name} {key(finding)} {finding['message']}")
                continue
            row[verdict] += 1
            verdicts[str(finding["code"]), str(finding["severity"])][verdict] += 1
            if finding["severity"] != Severity.INFO:
                by_set[set_name][verdict] += 1
        seeded, found = seeded_recall(project, tree)
        seeded_all.update(seeded)
        found_all.update(found)
        judged_count = row["true"] + row["false"] + row["debatable"]
        out(
            f"| {project.repo} `{project.commit[:7]}` | {files} | {len(findings)} | "
            f"{judged_count} | {row['true']} | {row['false']} | {row['debatable']} |"
        )
    out()
    out(
        "| rule | severity | findings | judged | true | false | debatable | precision | strict "
        "| seeded recall |"
    )
    out("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    on: Counter[str] = Counter()
    info: Counter[str] = Counter()
    for code in ["SMP000", *(rule.code for rule in RULES)]:
        recall = f"{found_all[code]} of {seeded_all[code]}" if seeded_all[code] else "-"
        rows = sorted(
            {severity for c, severity in totals if c == code},
            key=lambda severity: Severity(severity).rank,
            reverse=True,
        ) or [str(RULE_SEVERITY.get(code, Severity.ERROR))]
        for severity in rows:
            v = verdicts[code, severity]
            (info if severity == Severity.INFO else on).update(v)
            judged_count, precision, strict = rate(v)
            out(
                f"| {code} | {severity} | {totals[code, severity]} | {judged_count} | "
                f"{v['true']} | {v['false']} | {v['debatable']} | {precision} | {strict} | "
                f"{recall} |"
            )
    out()
    out("| set | judged | true | false | debatable | precision | strict |")
    out("|---|---:|---:|---:|---:|---:|---:|")
    for set_name in dict.fromkeys(name for name, _ in chosen):
        tally = by_set[set_name]
        judged_count, precision, strict = rate(tally)
        out(
            f"| {set_name} | {judged_count} | {tally['true']} | {tally['false']} | "
            f"{tally['debatable']} | {precision} | {strict} |"
        )
    out()
    for label, tally in (("on by default (warning, error)", on), ("info", info)):
        judged_count, precision, strict = rate(tally)
        out(
            f"{label}: {judged_count} judged, {tally['true']} true, {tally['false']} false, "
            f"{tally['debatable']} debatable: precision {precision}, strict {strict}"
        )


if __name__ == "__main__":
    main()
