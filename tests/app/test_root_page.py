"""`/` points to the coordinators' page, GraphQL and the REST description."""

import httpx


async def test_the_root_points_to_the_page_graphql_and_the_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for target in ('href="coord"', 'href="graphql"', 'href="docs"'):
        assert target in response.text
    # The same policy as /coord: nothing inline runs, nothing from elsewhere loads.
    coord = await client.get("/coord")
    assert response.headers["content-security-policy"] == coord.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
