"""The declared public surface matches what the package exposes."""

from __future__ import annotations

import heartkeep
from heartkeep import api


def test_all_is_sorted_and_complete() -> None:
    assert heartkeep.__all__ == sorted(heartkeep.__all__)
    for name in heartkeep.__all__:
        assert hasattr(heartkeep, name), name


def test_api_all_names_exist() -> None:
    assert api.__all__ == sorted(api.__all__)
    for name in api.__all__:
        assert callable(getattr(api, name)) or isinstance(getattr(api, name), type), name
