"""Where the bundled sample is found: the installed wheel's copy first, then the repository checkout."""

from __future__ import annotations

import pytest

from geotarget import DataNotFoundError
from geotarget.core import places


def test_wheel_copy_first_then_checkout(tmp_path, monkeypatch):
    wheel, checkout = tmp_path / "site-packages" / "geotarget" / "_bundled", tmp_path / "clone"
    for root in (wheel, checkout):
        (root / "data").mkdir(parents=True)
        (root / "data" / "PROVENANCE.md").write_text(str(root), encoding="utf-8")
    (checkout / "data" / "only_in_clone.csv").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(places, "DATA_ROOTS", (wheel, checkout))
    assert places.sample_path("data/PROVENANCE.md") == wheel / "data" / "PROVENANCE.md"
    assert places.sample_path("data/only_in_clone.csv") == checkout / "data" / "only_in_clone.csv"
    assert places.sample_path("data/PROVENANCE.md", root=checkout) == checkout / "data" / "PROVENANCE.md"
    with pytest.raises(DataNotFoundError, match=r"bundled sample file data/nope.csv not found under .*_bundled or "
                                                r".*clone\. .*pip install \."):
        places.sample_path("data/nope.csv")


def test_the_checkout_is_used_when_no_wheel_copy_exists():
    # this test suite runs from a checkout (editable install): no geotarget/_bundled there
    assert not places.BUNDLED_ROOT.exists()
    assert places.ROOT == places.CHECKOUT_ROOT
    assert places.sample_path(places.BOUNDARIES) == places.CHECKOUT_ROOT / "boundaries" / "tees_valley.gpkg"
