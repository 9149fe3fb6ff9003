"""A User's PATCH is applied and validated before the one writer is taken; the writer uses that work only if the
stored document is still the one it came from (app/scim/service.py, decision 0031)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.scim import service as service_module
from app.scim.service import ScimService
from tests.conftest import new_user, patch_body


def _spy_apply(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    threads: list[str] = []
    real = service_module.apply_patch

    def spied(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(service_module, "apply_patch", spied)
    return threads


def test_a_user_patch_is_applied_outside_the_writer(service: ScimService, monkeypatch: pytest.MonkeyPatch) -> None:
    uid = service.create("User", new_user("early@example.org", title="a")).body["id"]  # type: ignore[index]
    threads = _spy_apply(monkeypatch)
    patched = service.patch("User", uid, patch_body({"op": "replace", "path": "title", "value": "b"}))
    assert patched.body is not None and patched.body["title"] == "b"
    assert threads == [threading.current_thread().name]  # once, here: the writer thread did not do it again


def test_a_change_between_the_early_read_and_the_write_is_not_lost(
    service: ScimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    uid = service.create("User", new_user("raced@example.org", title="a")).body["id"]  # type: ignore[index]
    real_early = ScimService._patched_early

    def early_then_someone_else_writes(self: ScimService, *args: Any) -> Any:
        result = real_early(self, *args)
        monkeypatch.setattr(ScimService, "_patched_early", real_early)  # the other writer goes the normal way
        self.patch("User", uid, patch_body({"op": "replace", "path": "displayName", "value": "Other"}))
        return result

    monkeypatch.setattr(ScimService, "_patched_early", early_then_someone_else_writes)
    threads = _spy_apply(monkeypatch)
    patched = service.patch("User", uid, patch_body({"op": "replace", "path": "title", "value": "b"}))
    assert patched.body is not None
    assert (patched.body["title"], patched.body["displayName"]) == ("b", "Other")  # both changes kept
    assert service.writer._thread is not None and service.writer._thread.name in threads  # redone on what it read
