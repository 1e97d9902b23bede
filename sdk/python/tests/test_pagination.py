"""Lists: iterating walks every page; one page exposes has_more and next_cursor."""

from conftest import unique


def test_iterating_a_list_walks_every_page_once(client):
    marker = unique("page")
    created = {client.projects.create(name=f"{marker}-{i}").id for i in range(5)}
    first = client.projects.list(limit=2, sort="-createdAt")
    assert len(first.data) == 2 and first.has_more and first.next_cursor

    seen = [project.id for project in first]
    assert len(seen) == len(set(seen)), "no project is listed twice"
    assert created <= set(seen)
    assert len(list(first.iter_pages())) >= 3


def test_a_single_page_and_the_next_one(client):
    marker = unique("single")
    ids = [client.projects.create(name=f"{marker}-{i}").id for i in range(3)]
    page = client.projects.list(limit=2, sort="-createdAt")
    assert [p.id for p in page.data] == ids[::-1][:2]
    following = page.next_page()
    assert following.data[0].id == ids[0]
    again = client.projects.list(limit=2, sort="-createdAt", cursor=page.next_cursor)
    assert [p.id for p in again.data] == [p.id for p in following.data]
