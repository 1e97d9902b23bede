import base64
import json

import pytest

from projects.models import Project
from renderowl.tenancy import tenant_context


def seed(tenant, names):
    with tenant_context(tenant.id):
        return Project.objects.bulk_create(
            Project(organization=tenant.organization, name=name, slug=f"s{i}-{name}", webhook_secret="0" * 64)
            for i, name in enumerate(names)
        )


def walk(client, query):
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/v1/projects?{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        seen += body["data"]
        pages += 1
        if not body["hasMore"]:
            assert body["nextCursor"] is None
            return seen, pages
        cursor = body["nextCursor"]


def test_default_page_is_20_newest_first(tenant):
    for i in range(25):
        tenant.create_project(name=f"P{i}")

    body = tenant.client.get("/v1/projects").json()

    assert len(body["data"]) == 20
    assert body["hasMore"] is True
    created = [p["createdAt"] for p in body["data"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize("sort", ["createdAt", "-createdAt", "updatedAt", "-updatedAt", "name", "-name"])
def test_walking_every_sort_visits_each_row_once_in_order(tenant, sort):
    # Many ties: identical names, and bulk-created rows share timestamps.
    seed(tenant, [f"name-{i % 3}" for i in range(47)])

    rows, pages = walk(tenant.client, f"limit=5&sort={sort}")

    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 47
    assert pages == 10
    key = sort.removeprefix("-")
    pairs = [(row[key], row["id"]) for row in rows]
    assert pairs == sorted(pairs, reverse=sort.startswith("-"))


def test_rows_inserted_while_paging_never_cause_skips_or_repeats(tenant):
    seed(tenant, [f"n{i}" for i in range(30)])
    first = tenant.client.get("/v1/projects?limit=10&sort=name").json()
    seed(tenant, ["a-new-first", "zz-new-last"])  # one before the cursor, one after

    rest, _ = walk(tenant.client, f"limit=10&sort=name&cursor={first['nextCursor']}")

    names = [p["name"] for p in first["data"]] + [p["name"] for p in rest]
    assert len(names) == len(set(names))
    assert "zz-new-last" in names and "a-new-first" not in names
    assert len(names) == 31


@pytest.mark.parametrize(
    "query, code",
    [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=abc", "invalid_limit"),
        ("limit=-1", "invalid_limit"),
        ("sort=colour", "invalid_sort"),
        ("sort=--name", "invalid_sort"),
        ("cursor=!!!", "invalid_cursor"),
        ("cursor=bm90IGpzb24", "invalid_cursor"),
        ("colour=red", "unknown_query_parameter"),
    ],
)
def test_bad_list_parameters_are_400(tenant, query, code):
    response = tenant.client.get(f"/v1/projects?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def encode(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "-createdAt", "v": "not-a-date", "id": "prj_x"},
        {"s": "-createdAt", "v": "2026-01-01T00:00:00", "id": "prj_x"},
        {"s": "-createdAt", "v": 5, "id": "prj_x"},
        {"s": "-createdAt", "v": "2026-01-01T00:00:00+00:00", "id": 7},
        {"s": "name", "v": "a", "id": "prj_x"},
        ["not", "an", "object"],
    ],
)
def test_tampered_cursors_are_400_never_500(tenant, payload):
    response = tenant.client.get(f"/v1/projects?cursor={encode(payload)}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"s": "name", "v": "\ud800", "id": "x"}),
        json.dumps({"s": "-createdAt", "v": "2026-01-01T00:00:00-23:59", "id": "prj_x"}),
        "[" * 1400 + "]" * 1400,
    ],
    ids=["lone-surrogate", "offset-postgres-refuses", "nested-1400"],
)
def test_forged_cursors_are_400_before_they_are_decoded(tenant, raw):
    """Each of these was a 500: a cursor the server did not sign must never reach json.loads or a query."""
    tenant.client.raise_request_exception = False
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    sort = json.loads(raw)["s"] if raw.startswith("{") else "-createdAt"

    response = tenant.client.get("/v1/projects", {"cursor": cursor, "sort": sort})

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


def test_an_issued_cursor_with_its_payload_changed_is_refused(tenant):
    seed(tenant, [f"n{i}" for i in range(5)])
    issued = tenant.client.get("/v1/projects?limit=2&sort=name").json()["nextCursor"]
    encoded, signature = issued.rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert payload["v"] == "n1"

    forged = encode({**payload, "v": "a"}) + "." + signature
    response = tenant.client.get(f"/v1/projects?limit=2&sort=name&cursor={forged}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert tenant.client.get(f"/v1/projects?limit=2&sort=name&cursor={issued}").json()["data"][0]["name"] == "n2"


def test_cursors_outlive_a_secret_key_rotation_only_while_the_old_key_is_a_fallback(tenant, settings):
    seed(tenant, [f"n{i}" for i in range(5)])
    issued = tenant.client.get("/v1/projects?limit=2&sort=name").json()["nextCursor"]
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40

    settings.SECRET_KEY_FALLBACKS = [old_key]
    during = tenant.client.get(f"/v1/projects?limit=2&sort=name&cursor={issued}")
    settings.SECRET_KEY_FALLBACKS = []
    after = tenant.client.get(f"/v1/projects?limit=2&sort=name&cursor={issued}")

    assert [row["name"] for row in during.json()["data"]] == ["n2", "n3"]
    assert (after.status_code, after.json()["code"]) == (400, "invalid_cursor")
