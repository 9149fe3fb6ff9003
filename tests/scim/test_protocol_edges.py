"""Protocol edges found by trying the endpoint from outside (the tryout): each test failed on the code before it."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.scim.test_http import assert_scim_error


def test_two_authorization_headers_are_no_valid_token(live: LiveServer) -> None:
    """Before: the first header won, so a valid token followed by anything (or twice the same token) was served."""
    valid, wrong = f"Bearer {live.token}", "Bearer cst_wrong"
    with live.client("") as anonymous:
        for pair in ((valid, wrong), (wrong, valid), (valid, valid)):
            answer = anonymous.get("/Users", headers=[("Authorization", pair[0]), ("Authorization", pair[1])])
            assert_scim_error(answer, 401)
            assert live.token not in answer.text
        assert anonymous.get("/Users", headers={"Authorization": valid}).status_code == 200
