"""Map pages: the tile server's origin is let through the CSP of a page drawing a map, only."""

from __future__ import annotations

from app.auth.models import Role
from tests.factories import UserFactory
from tests.helpers import login

TILES = "https://tiles.winona.example/{z}/{x}/{y}.png"


def test_a_map_page_admits_the_tile_server_and_other_pages_do_not(make_app, session):
    app = make_app(MAP_TILE_URL=TILES)
    client = app.test_client()
    login(client, UserFactory(roles=[Role.OPERATOR], trained=True).email)
    search = client.get("/alpr/search")
    assert (
        "img-src 'self' data: https://tiles.winona.example;"
        in search.headers["Content-Security-Policy"]
    )
    assert 'data-tiles="https://tiles.winona.example/{z}/{x}/{y}.png"' in search.get_data(
        as_text=True
    )
    assert "tiles.winona.example" not in client.get("/").headers["Content-Security-Policy"]


def test_without_a_tile_server_the_search_map_is_a_plain_drawing(client, login_as, session):
    login_as(Role.OPERATOR)
    page = client.get("/alpr/search")
    html = page.get_data(as_text=True)
    assert "data-map" in html and "data-tiles" not in html
    assert 'data-area="min_lat,max_lat,min_lon,max_lon"' in html
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]
